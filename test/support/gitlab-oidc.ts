// A stand-in for a GitLab instance's OIDC issuer: it signs job ID tokens (RS256, as GitLab does)
// with the claims GitLab documents for a job, and publishes the key as a JWKS, which the Fulcio
// stand-in (fulcio-gitlab.ts) checks every token against, as real Fulcio does.
// https://docs.gitlab.com/ci/secrets/id_token_authentication/#token-payload
import { createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export const GITLAB_ISSUER = 'https://gitlab.com';

/** A push to acme/models main, on a GitLab-hosted runner. GitLab sends ids as strings, runner_id as a number. */
export const GITLAB_CLAIMS = {
  iss: GITLAB_ISSUER,
  sub: 'project_path:acme/models:ref_type:branch:ref:main',
  aud: 'sigstore',
  namespace_id: '4200',
  namespace_path: 'acme',
  project_id: '4242',
  project_path: 'acme/models',
  project_visibility: 'private',
  user_id: '17',
  user_login: 'alice',
  user_email: 'alice@example.com',
  user_access_level: 'maintainer',
  pipeline_id: '987654',
  pipeline_source: 'push',
  job_id: '1234567',
  ref: 'main',
  ref_type: 'branch',
  ref_path: 'refs/heads/main',
  ref_protected: 'true',
  runner_id: 12270837,
  runner_environment: 'gitlab-hosted',
  sha: '1f0a9e3c5b7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f',
  ci_config_ref_uri: 'gitlab.com/acme/models//.gitlab-ci.yml@refs/heads/main',
  ci_config_sha: '1f0a9e3c5b7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f',
} as const;

export type GitlabClaims = { -readonly [K in keyof typeof GITLAB_CLAIMS]: (typeof GITLAB_CLAIMS)[K] extends number ? number : string };

/** GITLAB_CLAIMS for another project and ref, its subject and config URI following (a fork's pipeline: project acme-fork/models). */
export function gitlabClaims(overrides: Partial<GitlabClaims> = {}): GitlabClaims {
  const claims: GitlabClaims = { ...GITLAB_CLAIMS, ...overrides };
  const host = new URL(claims.iss).host;
  const kind = claims.ref_type === 'branch' ? 'heads' : 'tags';
  return {
    ...claims,
    sub: overrides.sub ?? `project_path:${claims.project_path}:ref_type:${claims.ref_type}:ref:${claims.ref}`,
    ref_path: overrides.ref_path ?? `refs/${kind}/${claims.ref}`,
    ci_config_ref_uri: overrides.ci_config_ref_uri ?? `${host}/${claims.project_path}//.gitlab-ci.yml@refs/${kind}/${claims.ref}`,
  };
}

export interface GitlabOidc {
  readonly jwks: { readonly keys: JsonWebKey[] };
  /** A signed ID token with these claims (iat/nbf/exp now). */
  token(claims: Readonly<Record<string, unknown>>): string;
}

export function startGitlabOidc(): GitlabOidc {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'slsa-ml-test-gitlab';
  return {
    jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] },
    token: (claims) => signJwt(privateKey, kid, claims),
  };
}

function signJwt(key: KeyObject, kid: string, claims: Readonly<Record<string, unknown>>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${part({ alg: 'RS256', typ: 'JWT', kid })}.${part({ iat: now, nbf: now, exp: now + 300, jti: randomUUID(), ...claims })}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** The token's claims if its RS256 signature verifies with a key of the JWKS; undefined otherwise. */
export function verifiedClaims(token: string, jwks: GitlabOidc['jwks']): Record<string, unknown> | undefined {
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return undefined;
  const { alg, kid } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
  const jwk = jwks.keys.find((k) => (k as { kid?: string }).kid === kid);
  if (alg !== 'RS256' || !jwk) return undefined;
  const ok = verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
  return ok ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>) : undefined;
}
