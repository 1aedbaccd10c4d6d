// The steps every signed document goes through before its payload may be read — SLSA provenance
// and model-signing signatures alike: document, payload type, signature count, signature. Each
// needs the one before to hold; the first failure ends the list.
import { IN_TOTO_PAYLOAD_TYPE } from '../signing/index.ts';
import { createSignatureVerifier, type TrustConfig } from './config.ts';
import { isDocument, parseDocument, type Envelope, type ProvenanceDocument } from './document.ts';
import { failed, passed, toCheck, type Check, type CheckOutcome } from './result.ts';
import type { SignatureVerdict, SignatureVerifier } from './signature-verifier.ts';

/** Named checks in the order they ran. */
export class CheckList {
  readonly all: Check[] = [];

  record(name: string, outcome: CheckOutcome): boolean {
    this.all.push(toCheck(name, outcome));
    return outcome.ok;
  }

  get allPassed(): boolean {
    return this.all.every((c) => c.ok);
  }
}

export interface SignedDocument {
  readonly document: ProvenanceDocument;
  readonly verdict: SignatureVerdict;
}

/** `document` adds a check of the parsed document (e.g. "must be a bundle") before the signature. */
export async function verifyEnvelope(
  input: string | Buffer,
  trust: TrustConfig | SignatureVerifier,
  checks: CheckList,
  documentRule?: (document: ProvenanceDocument) => CheckOutcome,
): Promise<SignedDocument | undefined> {
  const parsed = parseDocument(input);
  const document = isDocument(parsed) ? parsed : undefined;
  if (!checks.record('document', document ? (documentRule?.(document) ?? passed()) : (parsed as CheckOutcome)) || !document) return undefined;
  if (!checks.record('payloadType', payloadTypeOutcome(document.envelope))) return undefined;
  if (!checks.record('signatureCount', signatureCountOutcome(document.envelope))) return undefined;
  const verdict = await verifySignature(trust, document);
  return checks.record('signature', verdict.outcome) ? { document, verdict } : undefined;
}

function payloadTypeOutcome(envelope: Envelope): CheckOutcome {
  return envelope.payloadType === IN_TOTO_PAYLOAD_TYPE
    ? passed()
    : failed('PAYLOAD_TYPE', `payloadType is ${JSON.stringify(envelope.payloadType)}, want ${IN_TOTO_PAYLOAD_TYPE}`);
}

function signatureCountOutcome(envelope: Envelope): CheckOutcome {
  const count = envelope.signatures.length;
  return count === 1 ? passed() : failed('SIGNATURE_COUNT', `envelope has ${count} signatures, want exactly 1`);
}

async function verifySignature(trust: TrustConfig | SignatureVerifier, document: ProvenanceDocument): Promise<SignatureVerdict> {
  try {
    const verifier = 'verify' in trust ? trust : await createSignatureVerifier(trust);
    return await verifier.verify(document);
  } catch (err) {
    const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'KEY_UNAVAILABLE';
    return { outcome: failed(code, (err as Error).message) };
  }
}
