// buildGithubStatement: provenance for a model trained in a GitHub Actions workflow, built by
// the reusable workflow's own job (buildType https://slsa-ml.dev/buildtypes/github-actions/v1,
// docs/buildtype-github-actions.md). Pure: every value comes from the input.
import { ANNOTATION, GITHUB_BUILD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from './constants.ts';
import { ProvenanceError } from './errors.ts';
import type { GithubRun, ReportedTraining } from './github-run.ts';
import type { JsonObject } from './json.ts';
import { checkedSubjects } from './subjects.ts';
import type { ResourceDescriptor, Statement, Subject } from './types.ts';

export interface GithubStatementInput {
  readonly run: GithubRun;
  readonly subjects: Subject[];
  readonly reported: ReportedTraining;
  /** workflow_dispatch inputs of the run (the event payload), when it had any. */
  readonly workflowInputs?: JsonObject;
  /** e.g. { 'slsa-ml': '0.1.0' } */
  readonly builderVersion: Record<string, string>;
  /** When the provenance job ran: after the training job finished (RFC 3339). */
  readonly finishedOn: string;
}

export function buildGithubStatement(input: GithubStatementInput): Statement {
  const { run } = input;
  const server = run.serverUrl.replace(/\/+$/, '');
  const workflow = splitWorkflowRef(run.workflowRef, 'workflowRef');
  splitWorkflowRef(run.jobWorkflowRef, 'jobWorkflowRef');
  const externalParameters: JsonObject = {
    workflow: { ref: workflow.ref, repository: `${server}/${workflow.repository}`, path: workflow.path },
  };
  if (input.workflowInputs && Object.keys(input.workflowInputs).length > 0) externalParameters.inputs = input.workflowInputs;
  if (input.reported.runner) externalParameters.trainingRunner = { ...input.reported.runner };
  return {
    _type: STATEMENT_TYPE,
    subject: checkedSubjects(input.subjects),
    predicateType: PREDICATE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: GITHUB_BUILD_TYPE,
        externalParameters,
        internalParameters: { github: platformFacts(run) },
        resolvedDependencies: dependencies(server, input),
      },
      runDetails: {
        builder: { id: `${server}/${run.jobWorkflowRef}`, version: { ...input.builderVersion } },
        metadata: {
          invocationId: `${server}/${run.repository}/actions/runs/${run.runId}/attempts/${run.runAttempt}`,
          finishedOn: input.finishedOn,
        },
      },
    },
  };
}

/** `owner/name/.github/workflows/x.yml@refs/heads/main` → its parts. */
export function splitWorkflowRef(value: string, field: string): { repository: string; path: string; ref: string } {
  const match = /^([^/@\s]+\/[^/@\s]+)\/([^@\s]+)@(\S+)$/.exec(value);
  if (!match) throw new ProvenanceError('BAD_GITHUB_RUN', `${field} ${JSON.stringify(value)} is not owner/repo/path@ref`);
  return { repository: match[1] as string, path: match[2] as string, ref: match[3] as string };
}

function platformFacts(run: GithubRun): JsonObject {
  const facts: JsonObject = { event_name: run.eventName };
  if (run.repositoryId) facts.repository_id = run.repositoryId;
  if (run.repositoryOwnerId) facts.repository_owner_id = run.repositoryOwnerId;
  if (run.runnerEnvironment) facts.runner_environment = run.runnerEnvironment;
  if (run.jobWorkflowSha) facts.job_workflow_sha = run.jobWorkflowSha;
  return facts;
}

function dependencies(server: string, input: GithubStatementInput): ResourceDescriptor[] {
  const { run, reported } = input;
  const tenant = { [ANNOTATION.tenantReported]: true };
  const deps: ResourceDescriptor[] = [
    { name: 'source', uri: `git+${server}/${run.repository}@${run.ref}`, digest: { gitCommit: run.sha } },
  ];
  if (reported.dataset) {
    deps.push({ name: 'dataset', uri: reported.dataset.uri, digest: { sha256: reported.dataset.sha256 }, annotations: tenant });
  }
  deps.push(...reported.frameworks.map((purl) => ({ uri: purl, annotations: tenant })));
  return deps;
}
