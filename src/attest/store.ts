// Writes the provenance siblings (and the model-signing signature, when one is made) create-only
// and checks that the store holds our bytes. Used by one-shot attesters (`slsa-ml attest`, the
// GitHub Action), which never adopt an existing sibling: it is either the operator's or a
// mistake — in both cases not theirs to replace.
import { provenanceLocations, type ProvenanceLocations } from '../layout/index.ts';
import type { SignedProvenance } from '../signing/index.ts';
import { StorageError, md5Base64, type Storage } from '../storage/index.ts';
import { AttestError } from './errors.ts';

/** Read-back limit: provenance is small; anything bigger is not what we wrote. */
const MAX_READ_BACK_BYTES = 16 * 1024 * 1024;

/**
 * Refuses before anything is signed or written, so a refusal leaves storage untouched. With
 * `modelSignature`, the `.sig` name is one of the names that must be free.
 */
export async function refuseExistingSiblings(storage: Storage, modelUri: string, options: { readonly modelSignature?: boolean } = {}): Promise<ProvenanceLocations> {
  const loc = provenanceLocations(modelUri);
  for (const uri of [loc.bundle, loc.envelope, ...(options.modelSignature ? [loc.signature] : [])]) {
    if (await storage.stat(uri)) throw exists(uri);
  }
  return loc;
}

/** `modelSignature`: the `.sig` bundle JSON, written last (the provenance is the record). */
export async function storeCreateOnly(storage: Storage, loc: ProvenanceLocations, signed: SignedProvenance, modelSignature?: string): Promise<void> {
  await createOnly(storage, loc.bundle, signed.bundleJson, 'application/json');
  await createOnly(storage, loc.envelope, signed.envelopeJsonl, 'application/jsonl');
  if (modelSignature !== undefined) await createOnly(storage, loc.signature, modelSignature, 'application/json');
}

async function createOnly(storage: Storage, uri: string, content: string, contentType: string): Promise<void> {
  const data = Buffer.from(content, 'utf8');
  try {
    // The store's own checksum of what it created (GCS md5Hash), equal to our bytes', shows what a
    // read-back would; without one (file://) the object is read back.
    const created = await storage.createOnly(uri, data, contentType);
    if (created.md5 !== undefined && created.md5 === md5Base64(data)) return;
  } catch (err) {
    if (err instanceof StorageError && err.code === 'ALREADY_EXISTS') throw exists(uri, err);
    throw err;
  }
  const stored = await storage.read(uri, MAX_READ_BACK_BYTES);
  if (!stored.equals(data)) throw new AttestError('READ_BACK_MISMATCH', `${uri} was written but reads back different bytes`);
}

function exists(uri: string, cause?: unknown): AttestError {
  return new AttestError('PROVENANCE_EXISTS', `${uri} already exists; provenance is never overwritten`, { cause });
}
