// What a statement of the GitHub Actions build type claims about its run, read once from the
// predicate's loose JSON (a field of the wrong type reads as absent). Compared with the signing
// certificate by certificate-check.ts.
import { GITHUB_BUILD_TYPE } from '../provenance/constants.ts';
import { dependencySource, optional, record, string, type DependencySource } from './loose-json.ts';
import type { InTotoStatement } from './statement.ts';

/** Provenance that slsa-ml's reusable workflow writes for a model trained in GitHub Actions. */
export { GITHUB_BUILD_TYPE };

export interface GithubWorkflow {
  readonly repository?: string;
  readonly path?: string;
  readonly ref?: string;
}

export interface GithubStatementClaims {
  readonly buildType?: string;
  readonly builderId?: string;
  readonly invocationId?: string;
  /** externalParameters.workflow: the top-level workflow of the run. */
  readonly workflow: GithubWorkflow;
  /** The resolvedDependencies entry named "source". */
  readonly source?: DependencySource;
  /** internalParameters.github: what the token said about the provenance job. */
  readonly platform: {
    readonly eventName?: string;
    readonly runnerEnvironment?: string;
    readonly jobWorkflowSha?: string;
    readonly repositoryId?: string;
    readonly repositoryOwnerId?: string;
  };
}

export function buildTypeOf(statement: InTotoStatement): string | undefined {
  return string(record(statement.predicate.buildDefinition).buildType);
}

export function isGithubStatement(statement: InTotoStatement): boolean {
  return buildTypeOf(statement) === GITHUB_BUILD_TYPE;
}

export function githubWorkflowOf(statement: InTotoStatement): GithubWorkflow {
  const workflow = record(record(record(statement.predicate.buildDefinition).externalParameters).workflow);
  return { ...optional('repository', string(workflow.repository)), ...optional('path', string(workflow.path)), ...optional('ref', string(workflow.ref)) };
}

export function githubStatementClaims(statement: InTotoStatement): GithubStatementClaims {
  const runDetails = record(statement.predicate.runDetails);
  const dependencies = record(statement.predicate.buildDefinition).resolvedDependencies;
  const sourceDep = (Array.isArray(dependencies) ? dependencies : []).map(record).find((d) => d.name === 'source' && string(d.uri) !== undefined);
  const github = record(record(record(statement.predicate.buildDefinition).internalParameters).github);
  return {
    ...optional('buildType', buildTypeOf(statement)),
    ...optional('builderId', string(record(runDetails.builder).id)),
    ...optional('invocationId', string(record(runDetails.metadata).invocationId)),
    workflow: githubWorkflowOf(statement),
    ...(sourceDep ? { source: dependencySource(sourceDep) } : {}),
    platform: {
      ...optional('eventName', string(github.event_name)),
      ...optional('runnerEnvironment', string(github.runner_environment)),
      ...optional('jobWorkflowSha', string(github.job_workflow_sha)),
      ...optional('repositoryId', string(github.repository_id)),
      ...optional('repositoryOwnerId', string(github.repository_owner_id)),
    },
  };
}
