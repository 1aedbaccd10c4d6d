// A model as model_signing sees it: its name and every file with its sha256, in canonical order.
// Built from the one measurement the SLSA subject comes from, so the two never disagree: a single
// file's one resource is the file's sha256 (the SLSA subject), and a directory's resources chain
// to the root digest (the SLSA subject).
import { rootDigest, type ModelDigest } from '../digest/index.ts';
import { SINGLE_FILE_RESOURCE } from './format.ts';

export interface ManifestResource {
  /** POSIX path relative to the model root; "." for a single-file model. */
  readonly name: string;
  readonly sha256: string;
}

export interface ModelManifest {
  /** Informative only (model_signing: the model path's last component). */
  readonly modelName: string;
  readonly resources: ReadonlyArray<ManifestResource>;
}

/** What a measurement holds: a ModelDigest, or the action's MeasuredModel. */
export type Measured = Pick<ModelDigest, 'kind' | 'sha256'> & { readonly files?: ReadonlyArray<{ readonly path: string; readonly sha256: string }> };

export function manifestOf(modelName: string, measured: Measured): ModelManifest {
  if (measured.kind === 'file') return { modelName, resources: [{ name: SINGLE_FILE_RESOURCE, sha256: measured.sha256 }] };
  if (!measured.files) throw new Error(`the measurement of directory model ${modelName} lists no files`);
  const resources = measured.files.map((f) => ({ name: f.path, sha256: f.sha256 }));
  // The files come in canonical order already; their chain is the directory's digest.
  if (rootDigest(resources) !== measured.sha256) throw new Error(`the files of ${modelName} do not chain to its digest sha256:${measured.sha256}`);
  return { modelName, resources };
}

/** The subject digest: sha256 over the resources' raw digests, in the order listed. */
export function manifestRoot(resources: ReadonlyArray<Pick<ManifestResource, 'sha256'>>): string {
  return rootDigest(resources);
}

/** model_signing's name for the model at a storage URI: its last path component. */
export function modelNameOf(uri: string): string {
  const last = uri.replace(/\/+$/, '').split('/').pop() ?? '';
  if (!uri.startsWith('file:')) return last;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
