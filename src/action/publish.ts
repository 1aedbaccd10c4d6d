// Where the signed provenance goes: two files and the model-signing signature in the job's output
// folder (the workflow uploads them as an artifact) and, when asked, next to the model in Cloud
// Storage. Nothing existing is ever replaced; every refusal happens before anything is signed.
import { constants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { refuseExistingSiblings } from '../attest/index.ts';
import { digestStorage } from '../digest/index.ts';
import { BUNDLE_SUFFIX, ENVELOPE_SUFFIX, MODEL_SIGNATURE_SUFFIX, type ProvenanceLocations } from '../layout/index.ts';
import type { SignedProvenance } from '../signing/index.ts';
import type { Storage } from '../storage/index.ts';
import { ActionError } from './errors.ts';
import type { ModelFiles } from './subjects.ts';

export interface LocalFiles {
  readonly bundle: string;
  readonly envelope: string;
  /** The OpenSSF model-signing signature. */
  readonly signature: string;
}

export async function refuseExistingFiles(outputDir: string, model: ModelFiles): Promise<LocalFiles> {
  const files = {
    bundle: join(outputDir, model.name + BUNDLE_SUFFIX),
    envelope: join(outputDir, model.name + ENVELOPE_SUFFIX),
    signature: join(outputDir, model.name + MODEL_SIGNATURE_SUFFIX),
  };
  for (const path of [files.bundle, files.envelope, files.signature]) {
    const present = await access(path, constants.F_OK).then(() => true, () => false);
    if (present) throw new ActionError('PROVENANCE_EXISTS', `${path} already exists; provenance is never overwritten`);
  }
  return files;
}

export async function writeFiles(outputDir: string, files: LocalFiles, signed: SignedProvenance, modelSignature: string): Promise<void> {
  await mkdir(outputDir, { recursive: true });
  await writeFile(files.bundle, signed.bundleJson, { flag: 'wx' });
  await writeFile(files.envelope, signed.envelopeJsonl, { flag: 'wx' });
  await writeFile(files.signature, modelSignature, { flag: 'wx' });
}

/**
 * The model in GCS must be the one the subjects describe — same digest and, for a directory,
 * the same file names — or provenance would be attached to something else.
 */
export async function checkStoredModel(storage: Storage, gcsUri: string, model: ModelFiles): Promise<ProvenanceLocations> {
  const directory = model.measured.kind === 'directory';
  if (!/^gs:\/\/[^/]+\/.+/.test(gcsUri)) throw new ActionError('BAD_INPUT', `gcs-uri: ${JSON.stringify(gcsUri)} is not gs://bucket/object`);
  if (gcsUri.endsWith('/') !== directory) {
    const want = directory ? 'a prefix ending in "/" (the subjects list a directory model)' : 'an object, without a trailing "/" (the subjects list one file)';
    throw new ActionError('BAD_INPUT', `gcs-uri: ${gcsUri} must be ${want}`);
  }
  const stored = await digestStorage(storage, gcsUri);
  const names = (files: ReadonlyArray<{ path: string }> | undefined): string => (files ?? []).map((f) => f.path).join('\n');
  if (stored.sha256 !== model.measured.sha256 || names(stored.files) !== names(model.measured.files)) {
    throw new ActionError('DIGEST_MISMATCH', `gcs-uri: ${gcsUri} measures sha256:${stored.sha256}, but the subjects say sha256:${model.measured.sha256}`);
  }
  return refuseExistingSiblings(storage, gcsUri, { modelSignature: true });
}
