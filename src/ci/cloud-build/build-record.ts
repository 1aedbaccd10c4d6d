// Cloud Build's own record of the running build (builds.get), read by the step with the build's
// service account and converted once into BuildRecord. Its substitutions, resolved source,
// trigger, worker pool and times are what Cloud Build stored when it created the build, not what
// a step's environment says.
import { CloudBuildError, fetchFailure } from './errors.ts';

export const CLOUD_BUILD_API = 'https://cloudbuild.googleapis.com';

export interface BuildRecord {
  /** projects/P/locations/L/builds/ID */
  readonly name: string;
  readonly id: string;
  readonly projectId: string;
  readonly status: string;
  readonly createTime?: string;
  readonly startTime?: string;
  readonly triggerId?: string;
  /** The email of the account the build runs as. */
  readonly serviceAccount?: string;
  /** projects/P/locations/L/workerPools/NAME, for a private pool. */
  readonly workerPool?: string;
  readonly machineType?: string;
  readonly substitutions: Readonly<Record<string, string>>;
  /** The commit Cloud Build resolved, and where from (a git URL or a connected repository's name). */
  readonly resolvedSource?: { readonly commit: string; readonly repository?: string };
}

export interface BuildRecordRequest {
  readonly api: string;
  readonly projectId: string;
  readonly location: string;
  readonly buildId: string;
  readonly accessToken: string;
  readonly signal: AbortSignal;
}

const HINT = 'grant the build\'s service account roles/cloudbuild.builds.viewer, or set SLSA_ML_CLOUD_BUILD_API=off to record the environment\'s word only';

export async function readBuildRecord(request: BuildRecordRequest): Promise<BuildRecord> {
  const name = `projects/${request.projectId}/locations/${request.location}/builds/${request.buildId}`;
  const url = `${request.api.replace(/\/+$/, '')}/v1/${name}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${request.accessToken}`, accept: 'application/json' }, signal: request.signal }).catch((cause: unknown) => {
    throw new CloudBuildError('CLOUD_BUILD_API_UNAVAILABLE', `Cloud Build API ${request.api} unreachable reading build ${request.buildId}: ${fetchFailure(cause)}`, { cause });
  });
  if (response.status === 401 || response.status === 403) {
    throw new CloudBuildError('CLOUD_BUILD_API_DENIED', `Cloud Build API refused to show build ${request.buildId} (HTTP ${response.status}): ${HINT}`);
  }
  if (!response.ok) throw new CloudBuildError('CLOUD_BUILD_API_UNAVAILABLE', `Cloud Build API answered HTTP ${response.status} for ${name}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw new CloudBuildError('CLOUD_BUILD_RECORD_INVALID', `Cloud Build API's answer for ${name} is not JSON`, { cause });
  }
  return checked(toBuildRecord(body, name), request, name);
}

// The record must be of this very build, and of a build still running: this step is part of it.
// Its name may give the project by number, so the location and id are what it must repeat.
function checked(record: BuildRecord, request: BuildRecordRequest, name: string): BuildRecord {
  const where = /^projects\/[^/]+\/locations\/([^/]+)\/builds\/([^/]+)$/.exec(record.name);
  if (record.id !== request.buildId || record.projectId !== request.projectId || where?.[1] !== request.location || where[2] !== request.buildId) {
    throw new CloudBuildError('CLOUD_BUILD_RECORD_INVALID', `Cloud Build API answered for build ${record.name || record.id}, not ${name}`);
  }
  if (record.status !== 'WORKING') {
    throw new CloudBuildError('CLOUD_BUILD_RECORD_INVALID', `Cloud Build's record of ${name} has status ${record.status || 'missing'}, not WORKING: this step is not running in that build`);
  }
  return record;
}

type Json = Readonly<Record<string, unknown>>;

function toBuildRecord(body: unknown, name: string): BuildRecord {
  const build = object(body);
  if (!build) throw new CloudBuildError('CLOUD_BUILD_RECORD_INVALID', `Cloud Build API's answer for ${name} is not a build`);
  const options = object(build.options);
  const pool = object(options?.pool);
  const serviceAccount = text(build.serviceAccount)?.split('/').pop();
  const source = resolvedSource(object(build.sourceProvenance));
  const optional = {
    createTime: text(build.createTime),
    startTime: text(build.startTime),
    triggerId: text(build.buildTriggerId),
    serviceAccount,
    workerPool: text(pool?.name),
    machineType: text(options?.machineType),
    resolvedSource: source,
  };
  return {
    name: text(build.name) ?? '',
    id: text(build.id) ?? '',
    projectId: text(build.projectId) ?? '',
    status: text(build.status) ?? '',
    substitutions: stringMap(build.substitutions),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

// The three ways Cloud Build records a resolved commit: a git URL, a connected repository
// (2nd-gen repositories), or a Cloud Source Repositories repo.
function resolvedSource(provenance: Json | undefined): BuildRecord['resolvedSource'] {
  const git = object(provenance?.resolvedGitSource);
  if (git) return source(git.revision, text(git.url));
  const connected = object(provenance?.resolvedConnectedRepository);
  if (connected) return source(connected.revision, text(connected.repository));
  const repo = object(provenance?.resolvedRepoSource);
  if (repo) return source(repo.commitSha, `projects/${text(repo.projectId) ?? ''}/repos/${text(repo.repoName) ?? ''}`);
  return undefined;
}

function source(commit: unknown, repository: string | undefined): BuildRecord['resolvedSource'] {
  const sha = text(commit);
  if (sha === undefined) return undefined;
  return { commit: sha, ...(repository ? { repository } : {}) };
}

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(object(value) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}
