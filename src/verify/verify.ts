// Verifies one provenance file against one artifact. The steps run in order and stop at the
// first failure up to the signature; once the signature holds, every statement check runs so
// that all policy failures are reported together.
import { certificateCheck } from './certificate-check.ts';
import { cloudBuildCertificateCheck, isCloudBuildStatement } from './cloud-build-check.ts';
import type { TrustConfig } from './config.ts';
import { CheckList, verifyEnvelope } from './envelope.ts';
import { isGithubStatement } from './github-statement.ts';
import { gitlabCertificateCheck } from './gitlab-check.ts';
import { isGitlabStatement } from './gitlab-statement.ts';
import { failed, passed, type CheckOutcome, type SignerIdentity, type VerificationResult } from './result.ts';
import type { SignatureVerifier } from './signature-verifier.ts';
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
  const signed = await verifyEnvelope(request.provenance, request.trust, checks);
  if (!signed) return { ok: false, checks: checks.all };
  const statement = parseStatement(signed.document.envelope.payload);
  if (!checks.record('statement', isStatement(statement) ? passed() : statement) || !isStatement(statement)) {
    return { ok: false, checks: checks.all };
  }
  const statementChecks = [
    statementTypeCheck,
    predicateTypeCheck,
    ...certificateChecks(statement, signed.verdict.signer),
    subjectCheck(request.artifact),
    ...(request.policies ?? []),
  ];
  for (const check of statementChecks) checks.record(check.name, await evaluate(check, statement));
  return { ok: checks.allPassed, checks: checks.all, statement, ...(signed.verdict.signer ? { signer: signed.verdict.signer } : {}) };
}

// Each platform's statement is compared with the certificate that signed it; a platform's
// certificate over another platform's statement fails that platform's check.
function certificateChecks(statement: InTotoStatement, signer: SignerIdentity | undefined): StatementCheck[] {
  const github = hasGithubCertificate(signer);
  const gitlab = hasGitlabCertificate(signer);
  return [
    ...(isGithubStatement(statement) || github ? [certificateCheck(signer)] : []),
    ...(isGitlabStatement(statement) || gitlab ? [gitlabCertificateCheck(signer)] : []),
    ...(isCloudBuildStatement(statement) && !github && !gitlab ? [cloudBuildCertificateCheck(signer)] : []),
  ];
}

function hasGithubCertificate(signer: SignerIdentity | undefined): boolean {
  return signer?.kind === 'certificate' && signer.github !== undefined;
}

function hasGitlabCertificate(signer: SignerIdentity | undefined): boolean {
  return signer?.kind === 'certificate' && signer.gitlab !== undefined;
}

async function evaluate(check: StatementCheck, statement: InTotoStatement): Promise<CheckOutcome> {
  try {
    return await check.evaluate(statement);
  } catch (err) {
    return failed('CHECK_ERROR', `check ${check.name} failed to run: ${(err as Error).message}`);
  }
}
