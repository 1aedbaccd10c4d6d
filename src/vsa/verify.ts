// Verifies one summary: the signed-document steps every attestation goes through (document,
// payload type, signature count, signature by whom the caller trusts), then the statement and the
// caller's checks; the model is measured last, and only when everything else held — hashing a
// multi-GB model for a summary that already failed is wasted work.
import { CheckList, failed, isStatement, parseStatement, passed, verifyEnvelope, type ArtifactSource, type CheckOutcome, type InTotoStatement, type SignatureVerifier, type StatementCheck, type TrustConfig, type VerificationResult } from '../verify/index.ts';
import { predicateTypeCheck, statementTypeCheck, subjectCheck } from './checks.ts';

export interface SummaryRequest {
  /** The summary's `.sigstore.json` (or a bare DSSE envelope). */
  readonly summary: string | Buffer;
  readonly trust: TrustConfig | SignatureVerifier;
  /** Checks over the verified statement (summaryChecks' resourceUriCheck, policyCheck, …). */
  readonly checks: ReadonlyArray<StatementCheck>;
  /** The model's digest now; undefined trusts the summary's own subject (nothing is read). */
  readonly artifact?: ArtifactSource;
}

export async function verifySummary(request: SummaryRequest): Promise<VerificationResult> {
  const checks = new CheckList();
  const signed = await verifyEnvelope(request.summary, request.trust, checks);
  if (!signed) return { ok: false, checks: checks.all };
  const statement = parseStatement(signed.document.envelope.payload);
  if (!checks.record('statement', isStatement(statement) ? passed() : statement) || !isStatement(statement)) return { ok: false, checks: checks.all };
  for (const check of [statementTypeCheck, predicateTypeCheck, ...request.checks]) checks.record(check.name, await evaluate(check, statement));
  if (checks.allPassed) checks.record('subject', await evaluate(subjectCheck(request.artifact), statement));
  const signer = signed.verdict.signer;
  return { ok: checks.allPassed, checks: checks.all, statement, ...(signer ? { signer } : {}) };
}

async function evaluate(check: StatementCheck, statement: InTotoStatement): Promise<CheckOutcome> {
  try {
    return await check.evaluate(statement);
  } catch (err) {
    return failed('CHECK_ERROR', `check ${check.name} failed to run: ${(err as Error).message}`);
  }
}
