// Fixed identifiers of the statement we produce and of the type hints we read (Tekton Chains names).

export const BUILD_TYPE = 'https://slsa-ml.dev/buildtypes/tekton-training/v1';
/** Models trained in a GitHub Actions workflow, attested by the reusable workflow (docs/buildtype-github-actions.md). */
export const GITHUB_BUILD_TYPE = 'https://slsa-ml.dev/buildtypes/github-actions/v1';
/** Models attested by slsa-ml's GitLab CI/CD component (docs/buildtype-gitlab.md). */
export const GITLAB_BUILD_TYPE = 'https://slsa-ml.dev/buildtypes/gitlab-ci/v1';
/** Models attested for a whole PipelineRun, every child TaskRun inspected (docs/buildtype-pipeline.md). */
export const PIPELINE_BUILD_TYPE = 'https://slsa-ml.dev/buildtypes/tekton-pipeline/v1';
/** Models attested by slsa-ml's step in a Google Cloud Build build (docs/buildtype-cloud-build.md). */
export const CLOUD_BUILD_BUILD_TYPE = 'https://slsa-ml.dev/buildtypes/cloud-build/v1';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';

/** Result-name suffixes and exact names that Tekton Chains treats as type hints. */
export const HINT = {
  outputs: 'ARTIFACT_OUTPUTS',
  inputs: 'ARTIFACT_INPUTS',
  uri: 'ARTIFACT_URI',
  digest: 'ARTIFACT_DIGEST',
  gitUrl: 'CHAINS-GIT_URL',
  gitCommit: 'CHAINS-GIT_COMMIT',
  frameworks: 'FRAMEWORKS',
} as const;

/** Annotation keys we write into ResourceDescriptors. */
export const ANNOTATION = {
  tenantReported: 'tenantReported',
  kind: 'slsa-ml.dev/kind',
  hashMethod: 'slsa-ml.dev/hashMethod',
  fileCount: 'slsa-ml.dev/fileCount',
  // A directory's files by path and sha256, in canonical order: the root digest chains only the
  // file digests, so without names a rename that keeps the order would go unnoticed.
  files: 'slsa-ml.dev/files',
  entryPoint: 'entryPoint',
  // The step whose results reported a source or a byproduct (Chains' names leave the step out).
  step: 'slsa-ml.dev/step',
  // Why a hint result could not be read (kept as a byproduct): verify treats it as undecidable.
  unreadable: 'slsa-ml.dev/unreadable',
  // A sibling model of the same run, with the digest the operator measured (not the reported one).
  measured: 'slsa-ml.dev/measured',
  // In a PipelineRun's statement: the pipeline task and the child TaskRun a descriptor came from.
  pipelineTask: 'slsa-ml.dev/pipelineTask',
  taskRun: 'slsa-ml.dev/taskRun',
} as const;

/** How a directory model's root digest is computed (OpenSSF model-signing v1.0, sha256 per file). */
export const DIRECTORY_HASH_METHOD = 'model-signing-v1.0-sha256';

/** Node labels GKE sets; the platform, not the tenant, decides them. */
export const NODE_LABEL = {
  nodePool: 'cloud.google.com/gke-nodepool',
  machineType: 'node.kubernetes.io/instance-type',
  gpu: 'cloud.google.com/gke-accelerator',
  tpu: 'cloud.google.com/gke-tpu-accelerator',
  tpuTopology: 'cloud.google.com/gke-tpu-topology',
} as const;

/** Extended resources that count accelerators in a Pod's containers. */
export const ACCELERATOR_RESOURCE = { gpu: 'nvidia.com/gpu', tpu: 'google.com/tpu' } as const;

/** Annotation the Tekton controller sets on every TaskRun Pod with its own release. */
export const TEKTON_RELEASE_ANNOTATION = 'pipeline.tekton.dev/release';

/** Output URI schemes accepted when the caller does not say otherwise. */
export const DEFAULT_OUTPUT_SCHEMES: readonly string[] = ['gs'];
