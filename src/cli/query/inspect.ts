// Verifies one provenance object found by query. Query answers "which models were trained with
// X", so by default it trusts a statement whose signature verifies and which names the model
// next to it; with --check-digests it also re-measures the model (every byte, slow). Provenance
// that names another location (a model copied together with its provenance) is checked as verify
// checks it: the model next to it is measured and must be a subject.
import { digestStorage } from '../../digest/index.ts';
import { modelForProvenance } from '../../layout/index.ts';
import { statementFacts, type StatementFacts } from '../../policy/index.ts';
import { ANNOTATION } from '../../provenance/index.ts';
import { objectName, parseStorageUri, type StorageError, type Storage } from '../../storage/index.ts';
import { verifyProvenance, type ArtifactDigest, type SignatureVerifier } from '../../verify/index.ts';
import { MAX_PROVENANCE_BYTES } from '../provenance-source.ts';
import { isOutage } from '../storage-flags.ts';

export type Inspection =
  | { readonly verified: true; readonly provenance: string; readonly model: string; readonly facts: StatementFacts }
  | { readonly verified: false; readonly provenance: string; readonly model: string; readonly reason: string };

export interface InspectOptions {
  readonly storage: Storage;
  readonly verifier: SignatureVerifier;
  readonly checkDigests: boolean;
}

export async function inspectProvenance(uri: string, options: InspectOptions): Promise<Inspection> {
  const models = modelForProvenance(uri) ?? { file: uri, directory: uri };
  const content = await readProvenance(options.storage, uri);
  if (typeof content === 'string') return { verified: false, provenance: uri, model: models.file, reason: content };
  // Untrusted until the signature verifies; only used to know which sibling form the model has.
  const claimed = claimedSubject(content, models);
  // A model copied with its provenance is named by its old location: measure it, as verify does.
  const sibling = claimed ? undefined : await siblingModel(options.storage, models);
  const model = claimed?.uri ?? sibling ?? models.file;
  const measured = measurement(options, claimed, sibling, models);
  const result = await verifyProvenance({ provenance: content, trust: options.verifier, artifact: measured.artifact });
  // A model storage could not serve has not failed verification: the query has no answer for it.
  if (measured.outage) throw measured.outage;
  if (result.ok && result.statement) return { verified: true, provenance: uri, model, facts: statementFacts(result.statement) };
  const failedCheck = result.checks.find((c) => !c.ok);
  const reason = failedCheck ? `${failedCheck.name}: ${failedCheck.reason ?? 'failed'}` : 'not verified';
  return { verified: false, provenance: uri, model, reason };
}

/** The provenance's bytes, or why they cannot be read (an outage is thrown: it is no reason). */
async function readProvenance(storage: Storage, uri: string): Promise<Buffer | string> {
  try {
    return await storage.read(uri, MAX_PROVENANCE_BYTES);
  } catch (err) {
    if (isOutage(err)) throw err;
    return `cannot read: ${(err as Error).message}`;
  }
}

/** How the model is measured, remembering a storage outage met on the way. */
function measurement(options: InspectOptions, claimed: { uri: string; sha256: string } | undefined, sibling: string | undefined, models: { file: string; directory: string }): { artifact: () => Promise<ArtifactDigest>; outage?: StorageError } {
  const measure = (): Promise<ArtifactDigest> => {
    if (claimed) return options.checkDigests ? digestStorage(options.storage, claimed.uri) : Promise.resolve({ sha256: claimed.sha256 });
    if (sibling) return digestStorage(options.storage, sibling);
    return Promise.reject(new Error(`there is no model next to it (${models.file} or ${models.directory})`));
  };
  const measured: { artifact: () => Promise<ArtifactDigest>; outage?: StorageError } = {
    artifact: () => measure().catch((err: unknown) => {
      if (isOutage(err)) measured.outage = err;
      throw err;
    }),
  };
  return measured;
}

async function siblingModel(storage: Storage, models: { file: string; directory: string }): Promise<string | undefined> {
  if (await storage.stat(models.file)) return models.file;
  for await (const _ of storage.list(models.directory)) return models.directory;
  return undefined;
}

function claimedSubject(content: Buffer, models: { file: string; directory: string }): { uri: string; sha256: string } | undefined {
  const names = new Map<string, string>();
  for (const uri of [models.file, models.directory]) names.set(uri, uri).set(objectPathOf(uri), uri);
  for (const subject of untrustedSubjects(content)) {
    const uri = subject.uri === undefined ? (names.get(subject.name ?? '') ?? byBaseName(subject, models)) : names.get(subject.uri);
    if (uri !== undefined && subject.sha256 !== undefined) return { uri, sha256: subject.sha256 };
  }
  return undefined;
}

// Provenance from the GitHub Action (without gcs-uri) names the model by its file or folder
// name only: it was signed before anyone chose where the model would be stored.
function byBaseName(subject: LooseSubject, models: { file: string; directory: string }): string | undefined {
  if (subject.name !== models.file.slice(models.file.lastIndexOf('/') + 1)) return undefined;
  return subject.directory ? models.directory : models.file;
}

type LooseSubject = { uri?: string; name?: string; sha256?: string; directory?: boolean };

function untrustedSubjects(content: Buffer): LooseSubject[] {
  try {
    const doc = JSON.parse(content.toString('utf8')) as { dsseEnvelope?: { payload?: unknown }; payload?: unknown };
    const payload = doc.dsseEnvelope?.payload ?? doc.payload;
    if (typeof payload !== 'string') return [];
    const statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as { subject?: unknown };
    if (!Array.isArray(statement.subject)) return [];
    return statement.subject.map((s: { uri?: unknown; name?: unknown; digest?: { sha256?: unknown }; annotations?: Record<string, unknown> }) => ({
      ...(typeof s.uri === 'string' ? { uri: s.uri } : {}),
      ...(typeof s.name === 'string' ? { name: s.name } : {}),
      ...(typeof s.digest?.sha256 === 'string' ? { sha256: s.digest.sha256 } : {}),
      ...(s.annotations?.[ANNOTATION.kind] === 'directory' ? { directory: true } : {}),
    }));
  } catch {
    return [];
  }
}

// The subject name our statements use: the object's path inside its bucket.
function objectPathOf(uri: string): string {
  try {
    return objectName(parseStorageUri(uri)).replace(/^\//, '');
  } catch {
    return uri;
  }
}
