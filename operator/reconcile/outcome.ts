// What the operator records on a TaskRun: annotations and a label under slsa-ml.dev/, which the
// Tekton Dashboard shows and `kubectl get taskruns -l slsa-ml.dev/provenance=signed` filters on.
import type { OwnedMetadata } from '../kube/index.ts';

export const ANNOTATION = {
  signed: 'slsa-ml.dev/signed',
  provenance: 'slsa-ml.dev/provenance',
  failure: 'slsa-ml.dev/failure',
} as const;
export const LABEL = 'slsa-ml.dev/provenance';
export const FINALIZER = 'slsa-ml.dev/provenance';

export type Outcome =
  | { readonly kind: 'signed'; readonly bundles: readonly string[] }
  | { readonly kind: 'failed'; readonly code: string; readonly reason: string };

export function outcomeMetadata(outcome: Outcome): OwnedMetadata {
  if (outcome.kind === 'signed') {
    return {
      annotations: { [ANNOTATION.signed]: 'true', [ANNOTATION.provenance]: outcome.bundles.join(',') },
      labels: { [LABEL]: 'signed' },
    };
  }
  return {
    annotations: { [ANNOTATION.signed]: 'failed', [ANNOTATION.failure]: oneLine(`${outcome.code}: ${outcome.reason}`) },
    labels: { [LABEL]: 'failed' },
  };
}

/** Annotations are shown on one line in the Dashboard and kubectl; keep them short and flat. */
export function oneLine(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
