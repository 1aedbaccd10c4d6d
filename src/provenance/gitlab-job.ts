// What GitLab says about one CI/CD job, as `slsa-ml attest-ci` sees it: the claims of the job's
// ID token (converted once at the edge by src/ci/gitlab), or — signing with a key, without a
// token — the job's own CI_* variables. `factsFrom` says which, so a reader can tell.

export interface GitlabJob {
  /** The instance: https://gitlab.com or a self-managed URL (the token's issuer). */
  readonly serverUrl: string;
  /** group/subgroup/project of the pipeline's project. */
  readonly projectPath: string;
  readonly projectId?: string;
  readonly namespacePath?: string;
  readonly namespaceId?: string;
  /** The full ref, as Fulcio records it: refs/heads/<branch> or refs/tags/<tag>. */
  readonly ref: string;
  readonly refType?: string;
  readonly refProtected?: string;
  /** The commit the pipeline ran for (40 hex). */
  readonly sha: string;
  readonly pipelineId: string;
  /** What started the pipeline: push, web, schedule, merge_request_event, … */
  readonly pipelineSource: string;
  readonly jobId: string;
  readonly runnerId?: string;
  /** gitlab-hosted or self-hosted. */
  readonly runnerEnvironment?: string;
  /** host/project//path@ref of the top-level pipeline definition: the certificate's SAN without https://. */
  readonly ciConfigRefUri: string;
  readonly ciConfigSha?: string;
  readonly userLogin?: string;
  readonly projectVisibility?: string;
  /** Where the facts above came from: GitLab's signed ID token, or the job's variables (its word). */
  readonly factsFrom: 'id_token' | 'ci_variables';
  /** Facts no claim carries, taken from the job's CI_* variables and recorded under their names. */
  readonly ciVariables: Readonly<Record<string, string>>;
}
