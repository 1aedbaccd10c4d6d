// The job as GitLab describes it in its ID token: the claims Fulcio's gitlab-pipeline provider
// copies into the certificate, so the statement and its certificate cannot disagree. The job's
// CI_* variables must tell the same story where they overlap; a difference means the job (or
// something in it) rewrote its environment. https://docs.gitlab.com/ci/secrets/id_token_authentication/
import type { GitlabJob } from '../../provenance/index.ts';
import type { CiEnv } from '../platform.ts';
import { jwtClaims } from '../../signing/sigstore/jwt-claims.ts';
import { GitlabError } from './errors.ts';

export type Claims = Readonly<Record<string, unknown>>;

/** Fulcio issues certificates only for tokens with this audience. */
export const SIGSTORE_AUDIENCE = 'sigstore';

const REQUIRED = ['iss', 'project_path', 'ref', 'ref_type', 'sha', 'pipeline_id', 'pipeline_source', 'job_id', 'ci_config_ref_uri'] as const;

// Why a claim GitLab documents can be absent, for the one that is absent in practice.
const MISSING_WHY: Readonly<Record<string, string>> = {
  ci_config_ref_uri: ': the CI config must live in this project\'s repository (GitLab sets ci_config_ref_uri only then), or GitLab is older than 16.2',
};

/** Claim ↔ variable pairs that must agree when the variable is set. */
const SAME_AS_ENV: ReadonlyArray<readonly [string, string]> = [
  ['iss', 'CI_SERVER_URL'],
  ['project_path', 'CI_PROJECT_PATH'],
  ['project_id', 'CI_PROJECT_ID'],
  ['ref', 'CI_COMMIT_REF_NAME'],
  ['sha', 'CI_COMMIT_SHA'],
  ['pipeline_id', 'CI_PIPELINE_ID'],
  ['pipeline_source', 'CI_PIPELINE_SOURCE'],
  ['job_id', 'CI_JOB_ID'],
];

export function decodeClaims(token: string): Claims {
  const claims = jwtClaims(token);
  if (!claims) throw new GitlabError('OIDC_TOKEN_INVALID', 'the ID token is not a JWT with a JSON payload');
  return claims;
}

export function gitlabJobFromClaims(claims: Claims, env: CiEnv): GitlabJob {
  for (const name of REQUIRED) {
    if (claim(claims, name) === undefined) throw new GitlabError('OIDC_TOKEN_INVALID', `the ID token has no ${name} claim${MISSING_WHY[name] ?? ' (GitLab 16.2 or later sets it)'}`);
  }
  const audience = claims.aud;
  if (!(audience === SIGSTORE_AUDIENCE || (Array.isArray(audience) && audience.includes(SIGSTORE_AUDIENCE)))) {
    throw new GitlabError('OIDC_TOKEN_INVALID', `the ID token's audience is ${JSON.stringify(audience)}, not "${SIGSTORE_AUDIENCE}": declare it with id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`);
  }
  for (const [name, variable] of SAME_AS_ENV) {
    const fromEnv = env[variable];
    const fromToken = claim(claims, name);
    if (fromEnv && fromToken !== undefined && trimSlash(fromEnv) !== trimSlash(fromToken)) {
      throw new GitlabError('ENVIRONMENT_MISMATCH', `${variable}=${fromEnv} but the ID token's ${name} claim is ${fromToken}`);
    }
  }
  const get = (name: string): string => claim(claims, name) ?? '';
  const refType = get('ref_type');
  return {
    serverUrl: trimSlash(get('iss')),
    projectPath: get('project_path'),
    // Fulcio's source-repository-ref template: a ref that is not a branch is recorded as a tag.
    ref: `refs/${refType === 'branch' ? 'heads' : 'tags'}/${get('ref')}`,
    refType,
    sha: get('sha'),
    pipelineId: get('pipeline_id'),
    pipelineSource: get('pipeline_source'),
    jobId: get('job_id'),
    ciConfigRefUri: get('ci_config_ref_uri'),
    ...optional('projectId', claim(claims, 'project_id')),
    ...optional('namespacePath', claim(claims, 'namespace_path')),
    ...optional('namespaceId', claim(claims, 'namespace_id')),
    ...optional('refProtected', claim(claims, 'ref_protected')),
    ...optional('runnerId', claim(claims, 'runner_id')),
    ...optional('runnerEnvironment', claim(claims, 'runner_environment')),
    ...optional('ciConfigSha', claim(claims, 'ci_config_sha')),
    ...optional('userLogin', claim(claims, 'user_login')),
    ...optional('projectVisibility', claim(claims, 'project_visibility')),
    factsFrom: 'id_token',
    ciVariables: jobOnlyVariables(env),
  };
}

/** What no claim says: the job's image (its word, recorded under the variable's name). */
export function jobOnlyVariables(env: CiEnv): Record<string, string> {
  return env.CI_JOB_IMAGE ? { CI_JOB_IMAGE: env.CI_JOB_IMAGE } : {};
}

// GitLab sends ids as strings and runner_id as a number; both are accepted.
export function claim(claims: Claims, name: string): string | undefined {
  const value = claims[name];
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function trimSlash(value: string): string {
  return value.replace(/\/+$/, '');
}
