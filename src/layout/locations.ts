// Where provenance lives next to a model, in the style of Tekton Chains' storage backends:
// a file model gets `<model>.sigstore.json` and `<model>.intoto.jsonl` (and the OpenSSF
// model-signing signature `<model>.sig`); a directory (prefix) model gets the same names as
// siblings of the prefix, outside it, so they never change the directory's own digest.
export interface ProvenanceLocations {
  readonly model: string;
  readonly directory: boolean;
  /** Sigstore bundle v0.3 */
  readonly bundle: string;
  /** The same DSSE envelope as one JSON line */
  readonly envelope: string;
  /** OpenSSF model-signing v1.0 signature (a Sigstore bundle `model_signing verify` reads) */
  readonly signature: string;
}

export const BUNDLE_SUFFIX = '.sigstore.json';
export const ENVELOPE_SUFFIX = '.intoto.jsonl';
export const MODEL_SIGNATURE_SUFFIX = '.sig';

export function provenanceLocations(modelUri: string): ProvenanceLocations {
  const directory = modelUri.endsWith('/');
  const base = directory ? modelUri.replace(/\/+$/, '') : modelUri;
  const path = base.replace(/^[a-z]+:\/\/[^/]*/, '');
  if (path === '' || path === '/') throw new Error(`${modelUri}: a model must be an object or a prefix below the bucket root`);
  return { model: modelUri, directory, bundle: base + BUNDLE_SUFFIX, envelope: base + ENVELOPE_SUFFIX, signature: base + MODEL_SIGNATURE_SUFFIX };
}

/**
 * The model a provenance object describes, or undefined when the name is not a provenance sibling.
 * A `.sig` is not provenance (it says nothing about how the model was made): never listed here.
 */
export function modelForProvenance(uri: string): { file: string; directory: string } | undefined {
  for (const suffix of [BUNDLE_SUFFIX, ENVELOPE_SUFFIX]) {
    if (uri.endsWith(suffix)) {
      const base = uri.slice(0, -suffix.length);
      return { file: base, directory: `${base}/` };
    }
  }
  return undefined;
}

/** True when `uri` lies under one of the prefixes (each ends in `/`). */
export function isUnderPrefix(uri: string, prefixes: readonly string[]): boolean {
  if (uri.split('/').some((segment) => segment === '..' || segment === '.')) return false;
  return prefixes.some((prefix) => uri.startsWith(prefix) && uri.length > prefix.length);
}
