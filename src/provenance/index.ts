export { ANNOTATION, BUILD_TYPE, DEFAULT_OUTPUT_SCHEMES, DIRECTORY_HASH_METHOD, GITHUB_BUILD_TYPE, GITLAB_BUILD_TYPE, PIPELINE_BUILD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from './constants.ts';
export { buildGithubStatement, splitWorkflowRef } from './github-statement.ts';
export type { GithubStatementInput } from './github-statement.ts';
export { CLOUD_BUILD_BUILD_TYPE } from './constants.ts';
export { buildCloudBuildStatement } from './cloud-build-statement.ts';
export type { CloudBuildRun, CloudBuildStatementInput } from './cloud-build-statement.ts';
export type { GithubRun, ReportedTraining } from './github-run.ts';
export { buildGitlabStatement } from './gitlab-statement.ts';
export type { GitlabStatementInput } from './gitlab-statement.ts';
export type { GitlabJob } from './gitlab-job.ts';
export { HintError, ProvenanceError } from './errors.ts';
export type { HintErrorCode, ProvenanceErrorCode } from './errors.ts';
export type { DigestAlgorithm, HintDigest } from './digest-syntax.ts';
export type { ArtifactHint } from './hint-objects.ts';
export type { SourceHint } from './hint-source.ts';
export { canonicalJson } from './json.ts';
export type { JsonObject, JsonValue } from './json.ts';
export type { Node, Pod, PipelineRun, TaskRun } from './kube.ts';
export { serializeStatement } from './serialize.ts';
export { buildStatement } from './statement.ts';
export { buildPipelineStatement } from './pipeline-statement.ts';
export { readPipelineTypeHints, type PipelineHints, type PipelineHintOptions } from './pipeline-hints.ts';
export type { RunKind } from './external.ts';
export { modelSubject, namedModelSubject } from './subjects.ts';
export type { MeasuredModel } from './subjects.ts';
export { isTypeHintName, readTypeHints } from './type-hints.ts';
export type { HintOptions, TypeHints } from './type-hints.ts';
export type {
  BuildDefinition,
  BuildPipelineStatementInput,
  BuildStatementInput,
  PipelineChild,
  DigestSet,
  Provenance,
  ProvenanceSettings,
  ResourceDescriptor,
  RunDetails,
  Statement,
  Subject,
} from './types.ts';
