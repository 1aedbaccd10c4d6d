// Writes the two provenance objects next to a model, create-only, and reads them back. A 412
// (object exists) is accepted only when the stored provenance attests the same TaskRun and model
// digest — the trace of our own earlier attempt that crashed before recording the outcome.
import { provenanceLocations, type ProvenanceLocations } from '../../src/layout/index.ts';
import type { SignedProvenance } from '../../src/signing/index.ts';
import { StorageError, type Storage } from '../../src/storage/index.ts';
import { ReconcileFailure } from './failure.ts';

const MAX_PROVENANCE_BYTES = 4 * 1024 * 1024;

export interface Expectation {
  readonly invocationId: string;
  readonly sha256: string;
}

export async function storeProvenance(storage: Storage, modelUri: string, signed: SignedProvenance, expect: Expectation): Promise<ProvenanceLocations> {
  const loc = provenanceLocations(modelUri);
  const bundleJson = await createOrAccept(storage, loc.bundle, signed.bundleJson, 'application/json', expect);
  // The envelope line always comes from the stored bundle, so both objects carry one signature
  // even when the bundle was written by an earlier attempt.
  const envelopeJsonl = `${JSON.stringify(envelopeOf(bundleJson, loc.bundle))}\n`;
  const storedLine = await createOrAccept(storage, loc.envelope, envelopeJsonl, 'application/jsonl', expect);
  if (storedLine !== envelopeJsonl) {
    throw new ReconcileFailure('PROVENANCE_CONFLICT', `${loc.envelope} holds a different signature than ${loc.bundle}`);
  }
  return loc;
}

async function createOrAccept(storage: Storage, uri: string, content: string, contentType: string, expect: Expectation): Promise<string> {
  try {
    await storage.createOnly(uri, Buffer.from(content), contentType);
  } catch (err) {
    if (!(err instanceof StorageError) || err.code !== 'ALREADY_EXISTS') throw err;
  }
  // Read back whatever is stored now, ours or an earlier attempt's, and check it before trusting it.
  const stored = (await storage.read(uri, MAX_PROVENANCE_BYTES)).toString('utf8');
  if (stored !== content) checkAttests(stored, uri, expect);
  return stored;
}

function envelopeOf(bundleJson: string, uri: string): unknown {
  const bundle = parse(bundleJson, uri) as { dsseEnvelope?: unknown };
  if (!bundle.dsseEnvelope) throw new ReconcileFailure('PROVENANCE_CONFLICT', `${uri} is not a DSSE bundle`);
  return bundle.dsseEnvelope;
}

function checkAttests(stored: string, uri: string, expect: Expectation): void {
  const doc = parse(stored.trim(), uri) as { dsseEnvelope?: { payload?: string }; payload?: string };
  const payload = doc.dsseEnvelope?.payload ?? doc.payload;
  const statement = parse(Buffer.from(payload ?? '', 'base64').toString('utf8'), uri) as {
    subject?: Array<{ digest?: { sha256?: string } }>;
    predicate?: { runDetails?: { metadata?: { invocationId?: string } } };
  };
  const sameRun = statement.predicate?.runDetails?.metadata?.invocationId === expect.invocationId;
  const sameModel = statement.subject?.some((s) => s.digest?.sha256 === expect.sha256) === true;
  if (!sameRun || !sameModel) {
    throw new ReconcileFailure('PROVENANCE_CONFLICT',
      `${uri} already exists and attests ${sameRun ? 'another model digest' : 'another TaskRun'}; it was not overwritten`);
  }
}

function parse(text: string, uri: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ReconcileFailure('PROVENANCE_CONFLICT', `${uri} already exists and is not provenance we wrote`, { cause: err });
  }
}
