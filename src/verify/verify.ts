// Verifies one provenance file against one artifact. The steps run in order and stop at the
// first failure up to the signature; once the signature holds, every statement check runs so
// that all policy failures are reported together.
import { IN_TOTO_PAYLOAD_TYPE } from '../signing/index.ts';
import { certificateCheck } from './certificate-check.ts';
import { createSignatureVerifier, type TrustConfig } from './config.ts';
import { isDocument, parseDocument, type Envelope, type ProvenanceDocument } from './document.ts';
import { isGithubStatement } from './github-statement.ts';
import { failed, passed, toCheck, type Check, type CheckOutcome, type SignerIdentity, type VerificationResult } from './result.ts';
import type { SignatureVerdict, SignatureVerifier } from './signature-verifier.ts';
import { predicateTypeCheck, statementTypeCheck, subjectCheck, type ArtifactSource, type StatementCheck } from './statement-checks.ts';
import { isStatement, parseStatement, type InTotoStatement } from './statement.ts';

export interface VerifyRequest {
  /** Contents of `<model>.sigstore.json` or `<model>.intoto.jsonl`. */
  readonly provenance: string | Buffer;
  /** Whom to trust, or a verifier made once with createSignatureVerifier and reused. */
  readonly trust: TrustConfig | SignatureVerifier;
  /** The artifact's digest, or how to measure it (e.g. `() => digestLocalPath(path)`). */
  readonly artifact: ArtifactSource;
  /** Extra named checks over the verified statement (policy). */
  readonly policies?: ReadonlyArray<StatementCheck>;
}

export async function verifyProvenance(request: VerifyRequest): Promise<VerificationResult> {
  const checks = new CheckList();
  const signed = await verifyEnvelope(request, checks);
  if (!signed) return { ok: false, checks: checks.all };
  const statement = parseStatement(signed.document.envelope.payload);
  if (!checks.record('statement', isStatement(statement) ? passed() : statement) || !isStatement(statement)) {
    return { ok: false, checks: checks.all };
  }
  const statementChecks = [
    statementTypeCheck,
    predicateTypeCheck,
    ...(isGithubStatement(statement) || hasGithubCertificate(signed.verdict.signer) ? [certificateCheck(signed.verdict.signer)] : []),
    subjectCheck(request.artifact),
    ...(request.policies ?? []),
  ];
  for (const check of statementChecks) checks.record(check.name, await evaluate(check, statement));
  return { ok: checks.allPassed, checks: checks.all, statement, ...(signed.verdict.signer ? { signer: signed.verdict.signer } : {}) };
}

// Document, payload type, signature count, signature: each step needs the one before to hold.
async function verifyEnvelope(request: VerifyRequest, checks: CheckList): Promise<{ document: ProvenanceDocument; verdict: SignatureVerdict } | undefined> {
  const document = parseDocument(request.provenance);
  if (!checks.record('document', isDocument(document) ? passed() : document) || !isDocument(document)) return undefined;
  if (!checks.record('payloadType', payloadTypeOutcome(document.envelope))) return undefined;
  if (!checks.record('signatureCount', signatureCountOutcome(document.envelope))) return undefined;
  const verdict = await verifySignature(request.trust, document);
  return checks.record('signature', verdict.outcome) ? { document, verdict } : undefined;
}

function hasGithubCertificate(signer: SignerIdentity | undefined): boolean {
  return signer?.kind === 'certificate' && signer.github !== undefined;
}

class CheckList {
  readonly all: Check[] = [];

  record(name: string, outcome: CheckOutcome): boolean {
    this.all.push(toCheck(name, outcome));
    return outcome.ok;
  }

  get allPassed(): boolean {
    return this.all.every((c) => c.ok);
  }
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

async function evaluate(check: StatementCheck, statement: InTotoStatement): Promise<CheckOutcome> {
  try {
    return await check.evaluate(statement);
  } catch (err) {
    return failed('CHECK_ERROR', `check ${check.name} failed to run: ${(err as Error).message}`);
  }
}
