// verify's answer, for people (one line per check, then who trained the model) and for
// programs (--json). Both come from the same report.
import { statementFacts } from '../../policy/index.ts';
import type { Check, SignerIdentity, VerificationResult } from '../../verify/index.ts';

export interface VerifyReport {
  readonly model: string;
  readonly provenance?: string;
  readonly result: VerificationResult;
}

export function renderHuman(report: VerifyReport): string {
  const { result } = report;
  const width = Math.max(...result.checks.map((c) => c.name.length), 8);
  const lines = [`model       ${report.model}`, `provenance  ${report.provenance ?? '(none found)'}`];
  for (const check of result.checks) lines.push(`  ${check.ok ? 'PASS' : 'FAIL'}  ${check.name.padEnd(width)}  ${describe(check)}`.trimEnd());
  lines.push(...context(result));
  const failedChecks = result.checks.filter((c) => !c.ok).map((c) => c.name);
  lines.push(result.ok ? 'VERIFIED' : `NOT VERIFIED: failed ${failedChecks.join(', ') || 'verification'}`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: VerifyReport): string {
  const { result } = report;
  const facts = result.statement ? statementFacts(result.statement) : undefined;
  return `${JSON.stringify(
    {
      model: report.model,
      provenance: report.provenance ?? null,
      verified: result.ok,
      checks: result.checks,
      signer: result.signer ?? null,
      ...(facts
        ? {
            builderId: facts.builderId ?? null,
            taskRun: { namespace: facts.taskRun.namespace ?? null, name: facts.taskRun.name ?? null, uid: facts.invocationId ?? null },
            finishedOn: facts.finishedOn ?? null,
            source: facts.source ?? null,
            packages: facts.packages,
            statement: result.statement,
          }
        : {}),
    },
    null,
    2,
  )}\n`;
}

function describe(check: Check): string {
  if (check.ok) return check.detail ?? '';
  return `${check.reason ?? 'failed'}${check.code ? ` [${check.code}]` : ''}`;
}

// Shown only once the signature held: before that, nothing in the statement is trustworthy.
function context(result: VerificationResult): string[] {
  if (!result.statement) return [];
  const facts = statementFacts(result.statement);
  const run = `${facts.taskRun.namespace ?? '?'}/${facts.taskRun.name ?? '?'}`;
  const lines = [`taskrun     ${run} (uid ${facts.invocationId ?? '?'}), finished ${facts.finishedOn ?? '?'}`, `builder     ${facts.builderId ?? '?'}`];
  if (facts.packages.length > 0) lines.push(`packages    ${facts.packages.join(' ')}`);
  if (result.signer) lines.push(`signer      ${signerText(result.signer)}`);
  return lines;
}

function signerText(signer: SignerIdentity): string {
  return signer.kind === 'key' ? `key ${signer.fingerprint}` : `${signer.subjectAlternativeName ?? '?'} (issuer ${signer.issuer ?? '?'})`;
}
