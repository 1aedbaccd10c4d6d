// verify's answer, for people (one line per check, then who trained the model) and for
// programs (--json). Both come from the same report.
import { statementFacts, type Source, type StatementFacts } from '../../policy/index.ts';
import { gitlabStatementClaims, isGitlabStatement, projectPathOf, type Check, type GithubWorkflow, type GitlabCertificateFields, type InTotoStatement, type SignerIdentity, type VerificationResult } from '../../verify/index.ts';
import { CLI_VERSION } from '../version.ts';
import { modelSignatureOk, type ModelSignatureReport } from './model-signature.ts';
import { modelSignatureFailures, modelSignatureJson, modelSignatureLines } from './model-signature-report.ts';

export interface VerifyReport {
  readonly model: string;
  readonly provenance?: string;
  readonly result: VerificationResult;
  /** The OpenSSF model-signing signature's verdict (MODEL.sig). */
  readonly modelSignature?: ModelSignatureReport;
}

/** The model verifies only if its provenance does and its model signature (when found or required) does. */
export function reportOk(report: VerifyReport): boolean {
  return report.result.ok && modelSignatureOk(report.modelSignature);
}

export function renderHuman(report: VerifyReport): string {
  const { result } = report;
  const lines = [`model       ${report.model}`, `provenance  ${report.provenance ?? '(none found)'}`, ...checkLines(result.checks)];
  lines.push(...context(result));
  lines.push(...modelSignatureLines(report.modelSignature, describe, signerText));
  const failedChecks = [...result.checks.filter((c) => !c.ok).map((c) => c.name), ...modelSignatureFailures(report.modelSignature)];
  lines.push(reportOk(report) ? 'VERIFIED' : `NOT VERIFIED: failed ${failedChecks.join(', ') || 'verification'}`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: VerifyReport): string {
  const { result } = report;
  return `${JSON.stringify(
    {
      model: report.model,
      provenance: report.provenance ?? null,
      verified: reportOk(report),
      checks: result.checks,
      signer: result.signer ?? null,
      // The OpenSSF model-signing signature's own verdict; null when there was none to check.
      modelSignature: modelSignatureJson(report.modelSignature),
      // Which verifier gave the verdict: a stored verdict says what judged it.
      verifier: { name: 'slsa-ml', version: CLI_VERSION },
      ...(result.statement ? statementJson(statementFacts(result.statement), result.statement) : {}),
    },
    null,
    2,
  )}\n`;
}

// A statement describes one run: a TaskRun, a PipelineRun (buildType tekton-pipeline/v1) or a
// GitHub Actions workflow run. Its key holds it and the other two are null, so that every key is
// always present.
function statementJson(facts: StatementFacts, statement: InTotoStatement): Record<string, unknown> {
  const run = { namespace: facts.taskRun.namespace ?? null, name: facts.taskRun.name ?? null, uid: facts.invocationId ?? null };
  return {
    builderId: facts.builderId ?? null,
    buildType: facts.buildType ?? null,
    taskRun: facts.runKind === 'TaskRun' ? run : null,
    pipelineRun: facts.runKind === 'PipelineRun' ? run : null,
    workflow: facts.workflow ? workflowJson(facts.workflow, facts.invocationId) : null,
    finishedOn: facts.finishedOn ?? null,
    source: facts.source ?? null,
    packages: facts.packages,
    unreadableFrameworks: facts.unreadableFrameworks,
    sources: facts.sources,
    statement,
  };
}

function workflowJson(workflow: GithubWorkflow, run: string | undefined): Record<string, string | null> {
  return { repository: workflow.repository ?? null, path: workflow.path ?? null, ref: workflow.ref ?? null, run: run ?? null };
}

/** One line per check: PASS, WARN or FAIL, its name, and what it found or why it failed. */
export function checkLines(checks: ReadonlyArray<Check>): string[] {
  const width = Math.max(...checks.map((c) => c.name.length), 8);
  return checks.map((check) => `  ${check.ok ? (check.warning ? 'WARN' : 'PASS') : 'FAIL'}  ${check.name.padEnd(width)}  ${describe(check)}`.trimEnd());
}

function describe(check: Check): string {
  if (check.ok) return check.warning ?? check.detail ?? '';
  return `${check.reason ?? 'failed'}${check.code ? ` [${check.code}]` : ''}`;
}

// Shown only once the signature held: before that, nothing in the statement is trustworthy.
function context(result: VerificationResult): string[] {
  if (!result.statement) return [];
  const facts = statementFacts(result.statement);
  const run = isGitlabStatement(result.statement) ? gitlabLines(result.statement, facts) : runLines(facts);
  const lines = [...run, `builder     ${facts.builderId ?? '?'}`, `buildtype   ${facts.buildType ?? '?'}`];
  if (facts.packages.length > 0) lines.push(`packages    ${facts.packages.join(' ')}`);
  for (const u of facts.unreadableFrameworks) lines.push(`frameworks  unreadable: ${u}`);
  if (result.signer) lines.push(`signer      ${signerText(result.signer)}`);
  return lines;
}

function runLines(facts: StatementFacts): string[] {
  const finished = `finished ${facts.finishedOn ?? '?'}`;
  if (facts.workflow) return [...workflowLines(facts.workflow, facts.invocationId, finished), ...sourceLines(facts.source)];
  const run = `${facts.taskRun.namespace ?? '?'}/${facts.taskRun.name ?? '?'} (uid ${facts.invocationId ?? '?'}), ${finished}`;
  // A pipeline's source comes from one of its tasks (a clone task): say which.
  if (facts.runKind === 'PipelineRun') return [`pipelinerun ${run}`, ...facts.sources.flatMap(sourceLines)];
  return [`taskrun     ${run}`];
}

// A GitLab job as its statement records it; the certificate's word is on the signer line.
function gitlabLines(statement: InTotoStatement, facts: StatementFacts): string[] {
  const claims = gitlabStatementClaims(statement);
  // The certificate names the job but not its pipeline: the pipeline is the statement's word.
  const pipeline = `${claims.gitlab.pipeline_url ?? `pipeline ${claims.gitlab.pipeline_id ?? '?'}`} (the statement's word)`;
  const from = claims.factsFrom === 'ci_variables' ? ' (from the job\'s CI variables)' : '';
  return [
    `pipeline    ${pipeline}, job ${claims.invocationId ?? '?'}, ${claims.pipelineSource ?? '?'}, finished ${facts.finishedOn ?? '?'}${from}`,
    ...sourceLines(facts.source),
  ];
}

function workflowLines(workflow: GithubWorkflow, run: string | undefined, finished: string): string[] {
  const { repository = '?', path = '?', ref = '?' } = workflow;
  return [`workflow    ${repository}/${path}@${ref}, run ${run ?? '?'}, ${finished}`];
}

function sourceLines(source: Source | undefined): string[] {
  if (!source) return [];
  const task = source.pipelineTask === undefined ? '' : ` (pipeline task ${source.pipelineTask})`;
  return [`source      ${source.repository}${source.ref ? `@${source.ref}` : ''}, commit ${source.commit ?? '?'}${task}`];
}

// The job as the certificate names it: GitLab's word, unlike the statement's pipeline line.
function gitlabJobText(gitlab: GitlabCertificateFields): string {
  const managed = gitlab.runnerEnvironment === 'self-hosted' ? 'self-managed runner' : `${gitlab.runnerEnvironment ?? 'unknown'} runner`;
  return `GitLab project ${projectPathOf(gitlab.sourceRepositoryURI) ?? '?'} at ${gitlab.sourceRepositoryRef ?? '?'}, job ${gitlab.runInvocationURI ?? '?'}, ${managed}`;
}

export function signerText(signer: SignerIdentity): string {
  if (signer.kind === 'key') return `key ${signer.fingerprint}`;
  if (signer.gitlab) return `${signer.subjectAlternativeName ?? '?'} (issuer ${signer.issuer ?? '?'}; ${gitlabJobText(signer.gitlab)})`;
  const runner = signer.github?.runnerEnvironment ? `, ${signer.github.runnerEnvironment} runner` : '';
  return `${signer.subjectAlternativeName ?? '?'} (issuer ${signer.issuer ?? '?'}${runner})`;
}
