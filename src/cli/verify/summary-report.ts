// verify --vsa's answer, for people and for programs (--json), in verify's own style: one line per
// check, then — only once the signature held — what the summary says, and whether the model's
// bytes were read or its digest was taken from the summary.
import type { PolicyDocument } from '../../policy/index.ts';
import { summaryFacts, type SummaryFacts } from '../../vsa/index.ts';
import { CLI_VERSION } from '../version.ts';
import { checkLines, signerText } from './report.ts';
import type { SummaryReport } from './verify-summary.ts';

export function renderSummaryHuman(report: SummaryReport): string {
  const { result } = report;
  const lines = [`model       ${report.model}`, `summary     ${report.summary ?? '(none found)'}`, `policy      ${policyText(report.policy)}`, ...checkLines(result.checks)];
  lines.push(...contextLines(report));
  const failed = result.checks.filter((c) => !c.ok).map((c) => c.name);
  lines.push(result.ok ? 'VERIFIED' : `NOT VERIFIED: failed ${failed.join(', ') || 'verification'}`);
  return `${lines.join('\n')}\n`;
}

// Shown only once the signature held: before that, nothing in the summary is trustworthy.
function contextLines(report: SummaryReport): string[] {
  const { result } = report;
  if (!result.statement) return [];
  const facts = summaryFacts(result.statement);
  const lines = [`verifier    ${facts.verifierId ?? '?'}`, `verified    ${facts.timeVerified ?? '?'}: ${[facts.verificationResult ?? '?', ...facts.verifiedLevels].join(' ')}`];
  for (const input of facts.inputAttestations) lines.push(`provenance  ${input.uri ?? '?'} (sha256:${input.sha256 ?? '?'})`);
  if (result.signer) lines.push(`signer      ${signerText(result.signer)}`);
  // Said only where the subject was checked: other checks that fail stop before the model is read.
  if (result.checks.some((c) => c.name === 'subject')) lines.push(digestLine(report, facts));
  return lines;
}

export function renderSummaryJson(report: SummaryReport): string {
  const { result } = report;
  const facts = result.statement ? summaryFacts(result.statement) : undefined;
  return `${JSON.stringify(
    {
      model: report.model,
      summary: report.summary ?? null,
      policy: { name: report.policy.name ?? null, digest: { sha256: report.policy.digest } },
      verified: result.ok,
      // false with --no-download: the digest is the summary's, the model was not read.
      modelRead: report.measured,
      checks: result.checks,
      signer: result.signer ?? null,
      verifier: { name: 'slsa-ml', version: CLI_VERSION },
      ...(facts && result.statement ? {
        verifierId: facts.verifierId ?? null,
        timeVerified: facts.timeVerified ?? null,
        verificationResult: facts.verificationResult ?? null,
        verifiedLevels: facts.verifiedLevels,
        inputAttestations: facts.inputAttestations,
        statement: result.statement,
      } : {}),
    },
    null,
    2,
  )}\n`;
}

function policyText(policy: PolicyDocument): string {
  return `${policy.name ?? '(no name)'} (sha256:${policy.digest})`;
}

function digestLine(report: SummaryReport, facts: SummaryFacts): string {
  const digest = facts.subjects.map((d) => `sha256:${d}`).join(', ') || '?';
  if (report.measured) return `digest      ${digest}, measured from the model's bytes now`;
  return `digest      ${digest}, taken from the summary: the model was not read (--no-download), so a model replaced since ${facts.timeVerified ?? 'then'} is not noticed`;
}
