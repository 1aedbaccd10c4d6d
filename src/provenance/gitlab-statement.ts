// buildGitlabStatement: provenance for a model a GitLab CI/CD job handed to slsa-ml's component
// (buildType https://slsa-ml.dev/buildtypes/gitlab-ci/v1, docs/buildtype-gitlab.md). Pure: every
// value comes from the input; the job's facts are already converted (src/ci/gitlab).
import { ANNOTATION, GITLAB_BUILD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from './constants.ts';
import type { GitlabJob } from './gitlab-job.ts';
import type { ReportedTraining } from './github-run.ts';
import type { JsonObject } from './json.ts';
import { checkedSubjects } from './subjects.ts';
import type { ResourceDescriptor, Statement, Subject } from './types.ts';

export interface GitlabStatementInput {
  readonly job: GitlabJob;
  readonly subjects: Subject[];
  readonly reported: ReportedTraining;
  /** e.g. { 'slsa-ml': '0.1.0' } */
  readonly builderVersion: Record<string, string>;
  /** When the provenance job ran (RFC 3339). */
  readonly finishedOn: string;
}

export function buildGitlabStatement(input: GitlabStatementInput): Statement {
  const { job } = input;
  const server = job.serverUrl.replace(/\/+$/, '');
  const project = `${server}/${job.projectPath}`;
  const externalParameters: JsonObject = {
    project,
    ref: job.ref,
    pipelineSource: job.pipelineSource,
    config: `https://${job.ciConfigRefUri}`,
  };
  if (input.reported.runner) externalParameters.trainingRunner = { ...input.reported.runner };
  const internalParameters: JsonObject = { factsFrom: job.factsFrom, gitlab: platformFacts(job, project) };
  if (Object.keys(job.ciVariables).length > 0) internalParameters.ciVariables = { ...job.ciVariables };
  return {
    _type: STATEMENT_TYPE,
    subject: checkedSubjects(input.subjects),
    predicateType: PREDICATE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: GITLAB_BUILD_TYPE,
        externalParameters,
        internalParameters,
        resolvedDependencies: dependencies(project, input),
      },
      runDetails: {
        // What Fulcio names the signer of a GitLab job: its pipeline definition at its ref.
        builder: { id: `https://${job.ciConfigRefUri}`, version: { ...input.builderVersion } },
        metadata: { invocationId: `${project}/-/jobs/${job.jobId}`, finishedOn: input.finishedOn },
      },
    },
  };
}

// Snake-case names, as GitLab's claims spell them.
function platformFacts(job: GitlabJob, project: string): JsonObject {
  const facts: JsonObject = {
    project_path: job.projectPath,
    pipeline_id: job.pipelineId,
    pipeline_url: `${project}/-/pipelines/${job.pipelineId}`,
    job_id: job.jobId,
    job_url: `${project}/-/jobs/${job.jobId}`,
  };
  const optional: Array<[string, string | undefined]> = [
    ['project_id', job.projectId],
    ['namespace_path', job.namespacePath],
    ['namespace_id', job.namespaceId],
    ['ref_type', job.refType],
    ['ref_protected', job.refProtected],
    ['runner_id', job.runnerId],
    ['runner_environment', job.runnerEnvironment],
    ['ci_config_sha', job.ciConfigSha],
    ['user_login', job.userLogin],
    ['project_visibility', job.projectVisibility],
  ];
  for (const [name, value] of optional) if (value !== undefined) facts[name] = value;
  return facts;
}

function dependencies(project: string, input: GitlabStatementInput): ResourceDescriptor[] {
  const { job, reported } = input;
  const tenant = { [ANNOTATION.tenantReported]: true };
  const deps: ResourceDescriptor[] = [{ name: 'source', uri: `git+${project}@${job.ref}`, digest: { gitCommit: job.sha } }];
  if (reported.dataset) deps.push({ name: 'dataset', uri: reported.dataset.uri, digest: { sha256: reported.dataset.sha256 }, annotations: tenant });
  deps.push(...reported.frameworks.map((purl) => ({ uri: purl, annotations: tenant })));
  return deps;
}
