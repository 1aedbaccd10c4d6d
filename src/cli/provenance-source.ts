// Finds and reads the provenance of a model: the file --provenance names, else the model's
// siblings (src/layout), preferring the Sigstore bundle over the bare DSSE envelope.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { provenanceLocations } from '../layout/index.ts';
import { StorageError, type Storage } from '../storage/index.ts';
import { InputError, UsageError } from './errors.ts';

export const MAX_PROVENANCE_BYTES = 16 * 1024 * 1024;

export type ProvenanceSource = { readonly found: true; readonly uri: string; readonly content: Buffer } | { readonly found: false; readonly searched: readonly string[] };

/** `explicit`: the --provenance value (a local path or a gs:// / file:// URI). */
export async function findProvenance(storage: Storage, modelUri: string, explicit: string | undefined, cwd: string): Promise<ProvenanceSource> {
  if (explicit !== undefined) return readNamedFile(storage, explicit, cwd, '--provenance');
  const loc = provenanceLocations(modelUri);
  for (const uri of [loc.bundle, loc.envelope]) {
    const content = await readIfPresent(storage, uri);
    if (content) return { found: true, uri, content };
  }
  return { found: false, searched: [loc.bundle, loc.envelope] };
}

/** A file the user named with `flag` (a local path, or a gs:// / file:// URI); it must exist. */
export async function readNamedFile(storage: Storage, value: string, cwd: string, flag: string): Promise<ProvenanceSource & { found: true }> {
  const isUri = value.startsWith('gs://') || value.startsWith('file:');
  if (!isUri && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new UsageError(`${flag} ${value}: only local paths, file:// and gs:// are supported`);
  const uri = isUri ? value : pathToFileURL(resolve(cwd, value)).href;
  let content: Buffer | undefined;
  try {
    content = await readIfPresent(storage, uri);
  } catch (err) {
    if (err instanceof StorageError && err.code === 'INVALID_URI') throw new UsageError(`${flag}: ${err.message}`, { cause: err });
    throw err;
  }
  if (!content) throw new InputError('PROVENANCE_NOT_FOUND', `${flag} ${value}: no such file or object`);
  return { found: true, uri, content };
}

export async function readIfPresent(storage: Storage, uri: string): Promise<Buffer | undefined> {
  try {
    return await storage.read(uri, MAX_PROVENANCE_BYTES);
  } catch (err) {
    if (err instanceof StorageError && err.code === 'NOT_FOUND') return undefined;
    throw err;
  }
}
