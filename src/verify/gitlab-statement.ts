// What a statement of the GitLab CI buildType claims about its job, read once from the
// predicate's loose JSON (a field of the wrong type reads as absent). Compared with the signing
// certificate by gitlab-check.ts, shown by verify's report.
import { GITLAB_BUILD_TYPE } from '../provenance/constants.ts';
import { buildTypeOf } from './github-statement.ts';
import { dependencySource, optional, record, string, type DependencySource } from './loose-json.ts';
import type { InTotoStatement } from './statement.ts';

export { GITLAB_BUILD_TYPE };

export interface GitlabStatementClaims {
  readonly buildType?: string;
  readonly builderId?: string;
  /** The job's URL. */
  readonly invocationId?: string;
  /** externalParameters.project: https://<host>/<group>/<project>. */
  readonly project?: string;
  readonly ref?: string;
  readonly pipelineSource?: string;
  /** externalParameters.config: https://<ci_config_ref_uri>. */
  readonly config?: string;
  readonly source?: DependencySource;
  /** internalParameters.factsFrom: id_token (GitLab's word) or ci_variables (the job's). */
  readonly factsFrom?: string;
  /** internalParameters.gitlab, as recorded. */
  readonly gitlab: Readonly<Record<string, string>>;
}

export function isGitlabStatement(statement: InTotoStatement): boolean {
  return buildTypeOf(statement) === GITLAB_BUILD_TYPE;
}

export function gitlabStatementClaims(statement: InTotoStatement): GitlabStatementClaims {
  const definition = record(statement.predicate.buildDefinition);
  const runDetails = record(statement.predicate.runDetails);
  const external = record(definition.externalParameters);
  const internal = record(definition.internalParameters);
  const dependencies = Array.isArray(definition.resolvedDependencies) ? definition.resolvedDependencies : [];
  const sourceDep = dependencies.map(record).find((d) => d.name === 'source' && string(d.uri) !== undefined);
  const gitlab = Object.fromEntries(Object.entries(record(internal.gitlab)).flatMap(([k, v]) => (string(v) === undefined ? [] : [[k, v as string]])));
  return {
    ...optional('buildType', buildTypeOf(statement)),
    ...optional('builderId', string(record(runDetails.builder).id)),
    ...optional('invocationId', string(record(runDetails.metadata).invocationId)),
    ...optional('project', string(external.project)),
    ...optional('ref', string(external.ref)),
    ...optional('pipelineSource', string(external.pipelineSource)),
    ...optional('config', string(external.config)),
    ...(sourceDep ? { source: dependencySource(sourceDep) } : {}),
    ...optional('factsFrom', string(internal.factsFrom)),
    gitlab,
  };
}
