// The one line a pull ends with. Success: what was written and who built it. Failure: the check
// that refused the model and why, the same line on stderr and in the termination message — an
// operator reading `kubectl describe pod` must not need the logs to know what to fix.
import type { ModelDigest } from '../../digest/index.ts';
import { statementFacts } from '../../policy/index.ts';
import type { Check } from '../../verify/index.ts';
import { hasCode } from '../errors.ts';
import type { VerifyReport } from '../verify/report.ts';

export interface Failure {
  /** The check (or step: download, interrupted) that failed. */
  readonly check: string;
  readonly reason: string;
  readonly code?: string;
  /** Other checks that failed too. */
  readonly others?: readonly string[];
}

/** The first failed check of the provenance, then of the model signature. */
export function verdictFailure(report: VerifyReport): Failure | undefined {
  const failed: Check[] = [
    ...report.result.checks.filter((c) => !c.ok),
    ...(report.modelSignature?.result?.checks ?? []).filter((c) => !c.ok).map((c) => ({ ...c, name: `model signature ${c.name}` })),
  ];
  const [first, ...rest] = failed;
  if (first === undefined) return undefined;
  return { check: first.name, reason: first.reason ?? 'failed', code: first.code, others: rest.map((c) => c.name) };
}

/** A download that failed: the storage, digest or disk error, not the checks it made fail. */
export function downloadFailure(err: unknown): Failure {
  return { check: 'download', reason: err instanceof Error ? err.message : String(err), code: hasCode(err) ? err.code : undefined };
}

export function failureLine(model: string, dest: string, failure: Failure): string {
  const code = failure.code ? ` [${failure.code}]` : '';
  const others = failure.others && failure.others.length > 0 ? ` (also failed: ${failure.others.join(', ')})` : '';
  return `slsa-ml pull: ${model} refused, nothing written to ${dest}: ${failure.check}: ${failure.reason}${code}${others}`;
}

export function successLine(report: VerifyReport, digest: ModelDigest, dest: string): string {
  const builder = report.result.statement ? statementFacts(report.result.statement).builderId : undefined;
  const files = `${digest.fileCount} ${digest.fileCount === 1 ? 'file' : 'files'}`;
  const signature = report.modelSignature?.result ? 'model signature verified' : 'no model signature';
  return `slsa-ml pull: verified ${report.model} sha256:${digest.sha256} (${files}, ${digest.totalBytes} bytes) built by ${builder ?? '?'}, ${signature}; written to ${dest}`;
}

/** Passed checks that warn (subjectName without --strict): stderr lines on success. */
export function warningLines(report: VerifyReport): string[] {
  return report.result.checks.filter((c) => c.ok && c.warning).map((c) => `slsa-ml pull: warning: ${c.name}: ${c.warning ?? ''}`);
}
