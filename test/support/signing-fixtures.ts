// Keys, statements and tampering for the signing and verify tests.
import { createHash, generateKeyPairSync } from 'node:crypto';

import { createSigner, signStatement, type SignedProvenance } from '../../src/signing/index.ts';

export interface TestKeyPair {
  readonly privatePem: string;
  readonly publicPem: string;
}

export function newKeyPair(namedCurve = 'P-256'): TestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A minimal SLSA v1 statement over the given subjects. */
export function provenanceStatement(subjects: ReadonlyArray<{ name: string; sha256: string }>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://slsa-ml.dev/buildtypes/tekton-training/v1',
        externalParameters: { taskRun: 'train-resnet' },
      },
      runDetails: { builder: { id: 'https://slsa-ml.dev/test-builder' }, metadata: { invocationId: 'uid-1' } },
    },
    ...overrides,
  };
}

export async function signWithKey(privatePem: string, statement: Record<string, unknown>): Promise<SignedProvenance> {
  const signer = await createSigner({ kind: 'key', keyPem: privatePem });
  return signStatement(Buffer.from(JSON.stringify(statement)), signer);
}

export interface EnvelopeJson {
  payload: string;
  payloadType: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** The parts of a serialized Sigstore bundle v0.3 the tests look at. */
export interface BundleJson {
  mediaType: string;
  verificationMaterial?: {
    publicKey?: { hint?: string };
    certificate?: { rawBytes: string };
    tlogEntries?: Array<{ kindVersion: { kind: string }; inclusionProof?: { checkpoint?: { envelope?: string } } }>;
  };
  dsseEnvelope: EnvelopeJson;
}

export function parseBundle(json: string): BundleJson {
  return JSON.parse(json) as BundleJson;
}

export function parseEnvelope(jsonl: string): EnvelopeJson {
  return JSON.parse(jsonl) as EnvelopeJson;
}

/** Applies an edit to the envelope, whether given as .intoto.jsonl or inside a .sigstore.json. */
export function editEnvelope(document: string, edit: (envelope: EnvelopeJson) => void): string {
  const json = JSON.parse(document) as BundleJson | EnvelopeJson;
  edit('dsseEnvelope' in json ? json.dsseEnvelope : json);
  return JSON.stringify(json) + (document.endsWith('\n') ? '\n' : '');
}

/** Changes one byte of the signed payload (the JSON stays parseable). */
export function flipPayloadByte(envelope: EnvelopeJson): void {
  const payload = Buffer.from(envelope.payload, 'base64');
  const at = payload.indexOf('train-resnet');
  if (at < 0) throw new Error('payload has no byte chosen for tampering');
  payload[at] = 'T'.charCodeAt(0);
  envelope.payload = payload.toString('base64');
}

export function envelopeOf(document: string): EnvelopeJson {
  const json = JSON.parse(document) as BundleJson | EnvelopeJson;
  return 'dsseEnvelope' in json ? json.dsseEnvelope : json;
}
