// A local stand-in for the Cloud Build API's builds.get (GET /v1/projects/P/locations/L/builds/ID),
// answering with Build resources in the REST API's JSON shape, only to the bearer of the access
// token the metadata server stand-in hands out (401 without one, 403 with another, as Google's
// APIs answer an unauthenticated and an unauthorized caller).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CloudBuildApi {
  readonly url: string;
  /** Build resources by name (projects/P/locations/L/builds/ID); tests add and change them. */
  readonly builds: Map<string, Record<string, unknown>>;
  /** Every request: its path and whether it carried the expected token. */
  readonly requests: Array<{ readonly path: string; readonly authorized: boolean }>;
  close(): Promise<void>;
}

export async function startCloudBuildApi(accessToken: string): Promise<CloudBuildApi> {
  const builds = new Map<string, Record<string, unknown>>();
  const requests: Array<{ path: string; authorized: boolean }> = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    requests.push({ path: url.pathname, authorized: bearer === accessToken });
    const answer = (status: number, body: object): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (bearer === undefined) return answer(401, { error: { code: 401, status: 'UNAUTHENTICATED', message: 'Request is missing required authentication credential.' } });
    if (bearer !== accessToken) return answer(403, { error: { code: 403, status: 'PERMISSION_DENIED', message: 'The caller does not have permission' } });
    const name = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/builds\/[^/]+)$/.exec(url.pathname)?.[1];
    const build = req.method === 'GET' && name ? builds.get(name) : undefined;
    if (!build) return answer(404, { error: { code: 404, status: 'NOT_FOUND', message: 'Requested entity was not found.' } });
    return answer(200, build);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    builds,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Variables Cloud Build sets from the build itself, not from its substitutions. */
const NOT_SUBSTITUTIONS = new Set(['BUILD_ID', 'PROJECT_ID', 'PROJECT_NUMBER', 'LOCATION', 'SERVICE_ACCOUNT_EMAIL', 'SERVICE_ACCOUNT', 'PATH', 'HOME', 'GCE_METADATA_HOST', 'SLSA_ML_CLOUD_BUILD_API']);

/**
 * The running build a step with this environment belongs to, as builds.get returns it: a
 * 2nd-gen repository trigger's build on a private worker pool.
 */
export function buildRecordFor(env: Readonly<Record<string, string>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { BUILD_ID: id = '', PROJECT_ID: project = '', LOCATION: location = '', COMMIT_SHA: commit = '' } = env;
  const substitutions = Object.fromEntries(Object.entries(env).filter(([k]) => !NOT_SUBSTITUTIONS.has(k)));
  return {
    name: `projects/${env.PROJECT_NUMBER ?? project}/locations/${location}/builds/${id}`,
    id,
    projectId: project,
    status: 'WORKING',
    createTime: '2026-12-07T01:00:00.123456Z',
    startTime: '2026-12-07T01:00:05.654321Z',
    buildTriggerId: '0b9c6f0e-7d55-4c5b-9e0a-3f1c2b4d5e6f',
    substitutions,
    serviceAccount: `projects/${project}/serviceAccounts/${env.SERVICE_ACCOUNT_EMAIL ?? ''}`,
    options: {
      automapSubstitutions: true,
      logging: 'CLOUD_LOGGING_ONLY',
      substitutionOption: 'ALLOW_LOOSE',
      pool: { name: `projects/${project}/locations/${location}/workerPools/training-pool` },
    },
    ...(commit ? { sourceProvenance: { resolvedConnectedRepository: { repository: `projects/${project}/locations/${location}/connections/github/repositories/acme-models`, revision: commit } } } : {}),
    ...extra,
  };
}
