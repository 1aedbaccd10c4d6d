// Result names that announce a model output (Tekton Chains' type hints).
export function isTypeHintOutputName(name: string): boolean {
  return name.endsWith('ARTIFACT_OUTPUTS') || name.endsWith('ARTIFACT_URI');
}
