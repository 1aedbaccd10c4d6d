// verify's answer about the model-signing signature, next to the provenance's: one line per
// check (as for the provenance) and who signed, or where none was found; and the same as JSON.
import type { Check, SignerIdentity } from '../../verify/index.ts';
import type { ModelSignatureReport } from './model-signature.ts';

export function modelSignatureLines(report: ModelSignatureReport | undefined, describe: (c: Check) => string, signerText: (s: SignerIdentity) => string): string[] {
  if (!report) return [];
  const lines = [`model signature  ${report.signature ?? `(none: no ${report.searched ?? '?'})`}  [OpenSSF model-signing]`];
  const checks = report.result?.checks ?? [];
  const width = Math.max(...checks.map((c) => c.name.length), 8);
  for (const check of checks) lines.push(`  ${check.ok ? 'PASS' : 'FAIL'}  ${check.name.padEnd(width)}  ${describe(check)}`.trimEnd());
  if (report.result?.signer) lines.push(`  signer    ${signerText(report.result.signer)}`);
  return lines;
}

/** `null` when no signature was found and none was required. */
export function modelSignatureJson(report: ModelSignatureReport | undefined): Record<string, unknown> | null {
  if (!report?.result) return null;
  return { signature: report.signature ?? null, verified: report.result.ok, checks: report.result.checks, signer: report.result.signer ?? null };
}

/** The failed check names, for the verdict line. */
export function modelSignatureFailures(report: ModelSignatureReport | undefined): string[] {
  return (report?.result?.checks ?? []).filter((c) => !c.ok).map((c) => `model signature ${c.name}`);
}
