// What the GitHub Actions platform says about one workflow run, as the reusable workflow's
// provenance job sees it (the OIDC token's claims, converted once at the edge by src/action).
// Nothing here comes from the caller's steps.

export interface GithubRun {
  /** https://github.com, or a GitHub Enterprise Server URL. */
  readonly serverUrl: string;
  /** owner/name of the repository whose workflow ran. */
  readonly repository: string;
  readonly repositoryId?: string;
  readonly repositoryOwnerId?: string;
  /** The ref that triggered the run, e.g. refs/heads/main. */
  readonly ref: string;
  /** The commit of that ref (40 hex). */
  readonly sha: string;
  readonly eventName: string;
  /** The caller's top-level workflow: owner/name/.github/workflows/train.yml@refs/heads/main. */
  readonly workflowRef: string;
  /** The reusable workflow that builds provenance: owner/name/.github/workflows/provenance.yml@<ref>. */
  readonly jobWorkflowRef: string;
  readonly jobWorkflowSha?: string;
  readonly runId: string;
  readonly runAttempt: string;
  /** github-hosted or self-hosted (of the provenance job's runner). */
  readonly runnerEnvironment?: string;
}

/** What the caller's training job reported: recorded, marked tenantReported, never trusted. */
export interface ReportedTraining {
  /** Package URLs of the training frameworks, e.g. pkg:pypi/torch@2.10.0. */
  readonly frameworks: readonly string[];
  readonly dataset?: { readonly uri: string; readonly sha256: string };
  /** Free-form facts about the training job's runner (os, arch, name, accelerators …). */
  readonly runner?: Readonly<Record<string, string>>;
}
