// buildCloudBuildStatement: provenance for a model written by a Google Cloud Build build, made by
// slsa-ml's own build step (buildType https://slsa-ml.dev/buildtypes/cloud-build/v1,
// docs/buildtype-cloud-build.md). Pure: every value comes from the input.
import { ANNOTATION, CLOUD_BUILD_BUILD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from './constants.ts';
import type { ReportedTraining } from './github-run.ts';
import type { JsonObject } from './json.ts';
import { checkedSubjects } from './subjects.ts';
import type { ResourceDescriptor, Statement, Subject } from './types.ts';

/** One Cloud Build build as the step saw it; `recordedFrom` says who vouches for which fact. */
export interface CloudBuildRun {
  readonly projectId: string;
  readonly projectNumber: string;
  /** The build's region, or `global`. */
  readonly location: string;
  readonly buildId: string;
  /** Builds started by a trigger: its name (and id) and the build config file it ran (empty when inline). */
  readonly trigger?: { readonly name: string; readonly id?: string; readonly buildConfigPath?: string };
  /**
   * The repository and commit of a triggered build (REPO_FULL_NAME is owner/name, no host);
   * `uri`: where Cloud Build resolved the commit (a git URL or a connected repository's name).
   */
  readonly source?: { readonly repository?: string; readonly ref?: string; readonly refKind?: 'branch' | 'tag'; readonly commit: string; readonly uri?: string };
  /** The service account the build runs as. */
  readonly serviceAccount?: string;
  /** Only Cloud Build's record has these. */
  readonly createTime?: string;
  readonly startTime?: string;
  readonly workerPool?: string;
  readonly machineType?: string;
  /** User-defined substitutions (`_NAME`), as the step saw them. */
  readonly substitutions: Readonly<Record<string, string>>;
  /**
   * Where each recorded fact came from: `environment` → variable names (the build config's word),
   * `cloudBuildApi` → fields of the builds.get record, `identityToken` → claims.
   */
  readonly recordedFrom: {
    readonly environment: readonly string[];
    readonly cloudBuildApi?: readonly string[];
    /** Where the record was read (Google's API unless SLSA_ML_CLOUD_BUILD_API named another). */
    readonly cloudBuildApiEndpoint?: string;
    readonly identityToken?: readonly string[];
  };
}

export interface CloudBuildStatementInput {
  readonly build: CloudBuildRun;
  readonly subjects: Subject[];
  readonly reported: ReportedTraining;
  /** e.g. { 'slsa-ml': '0.1.0' } */
  readonly builderVersion: Record<string, string>;
  /** When the provenance step ran (RFC 3339). */
  readonly finishedOn: string;
}

const API = 'https://cloudbuild.googleapis.com';

export function buildCloudBuildStatement(input: CloudBuildStatementInput): Statement {
  const { build } = input;
  const where = `projects/${build.projectId}/locations/${build.location}`;
  return {
    _type: STATEMENT_TYPE,
    subject: checkedSubjects(input.subjects),
    predicateType: PREDICATE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: CLOUD_BUILD_BUILD_TYPE,
        externalParameters: externalParameters(input),
        internalParameters: internalParameters(build),
        resolvedDependencies: dependencies(input),
      },
      runDetails: {
        // Cloud Build in this project and region ran the step; the signer is the build's service account.
        builder: { id: `${API}/${where}`, version: { ...input.builderVersion } },
        // The build's resource name in the Cloud Build API (builds.get answers for it).
        metadata: {
          invocationId: `${API}/v1/${where}/builds/${build.buildId}`,
          ...(build.startTime ? { startedOn: build.startTime } : {}),
          finishedOn: input.finishedOn,
        },
      },
    },
  };
}

function externalParameters(input: CloudBuildStatementInput): JsonObject {
  const { build, reported } = input;
  const buildConfig: JsonObject = {};
  if (build.trigger) {
    buildConfig.trigger = build.trigger.name;
    if (build.trigger.buildConfigPath) buildConfig.path = build.trigger.buildConfigPath;
  }
  if (build.source?.repository) buildConfig.repository = build.source.repository;
  if (build.source?.ref) buildConfig.ref = build.source.ref;
  const params: JsonObject = {};
  if (Object.keys(buildConfig).length > 0) params.buildConfig = buildConfig;
  if (Object.keys(build.substitutions).length > 0) params.substitutions = { ...build.substitutions };
  if (reported.runner) params.trainingRunner = { ...reported.runner };
  return params;
}

function internalParameters(build: CloudBuildRun): JsonObject {
  const cloudBuild: JsonObject = { projectId: build.projectId, projectNumber: build.projectNumber, location: build.location, buildId: build.buildId };
  const optional = { triggerId: build.trigger?.id, serviceAccount: build.serviceAccount, createTime: build.createTime, workerPool: build.workerPool, machineType: build.machineType };
  for (const [key, value] of Object.entries(optional)) if (value) cloudBuild[key] = value;
  const recordedFrom: JsonObject = { environment: [...build.recordedFrom.environment] };
  if (build.recordedFrom.cloudBuildApi) recordedFrom.cloudBuildApi = [...build.recordedFrom.cloudBuildApi];
  if (build.recordedFrom.cloudBuildApiEndpoint) recordedFrom.cloudBuildApiEndpoint = build.recordedFrom.cloudBuildApiEndpoint;
  if (build.recordedFrom.identityToken) recordedFrom.identityToken = [...build.recordedFrom.identityToken];
  return { cloudBuild, recordedFrom };
}

function dependencies(input: CloudBuildStatementInput): ResourceDescriptor[] {
  const { build, reported } = input;
  const tenant = { [ANNOTATION.tenantReported]: true };
  const deps: ResourceDescriptor[] = [];
  if (build.source) {
    // Cloud Build's substitutions name the repository without its host, so the commit is the
    // dependency's identity and the repository and ref are annotations; a git URL Cloud Build
    // resolved the commit from is its uri.
    const annotations: JsonObject = {};
    if (build.source.repository) annotations.repository = build.source.repository;
    if (build.source.ref) annotations.ref = build.source.ref;
    if (build.source.refKind) annotations.refKind = build.source.refKind;
    const uri = build.source.uri && /^https?:\/\//.test(build.source.uri) ? `git+${build.source.uri}` : undefined;
    if (build.source.uri && !uri) annotations.repositoryResource = build.source.uri;
    deps.push({ name: 'source', ...(uri ? { uri } : {}), digest: { gitCommit: build.source.commit }, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) });
  }
  if (reported.dataset) {
    deps.push({ name: 'dataset', uri: reported.dataset.uri, digest: { sha256: reported.dataset.sha256 }, annotations: tenant });
  }
  deps.push(...reported.frameworks.map((purl) => ({ uri: purl, annotations: tenant })));
  return deps;
}
