// GitLab CI/CD as a platform of `slsa-ml attest-ci`: a job is GitLab's when GITLAB_CI is set, its
// identity token is the ID token the job declares (`id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`,
// cosign's variable), and its statement is of the gitlab-ci buildType.
import { buildGitlabStatement, type GitlabJob } from '../../provenance/index.ts';
import type { CiEnv, CiPlatform } from '../platform.ts';
import { decodeClaims, gitlabJobFromClaims } from './claims.ts';
import { GitlabError } from './errors.ts';
import { gitlabJobFromVariables } from './variables.ts';

/** The variable the component's id_tokens entry fills. */
export const GITLAB_TOKEN_VARIABLE = 'SIGSTORE_ID_TOKEN';

export const gitlabPlatform: CiPlatform = {
  name: 'gitlab',
  // GitLab Runner sets it in every job.
  detect: (env) => env.GITLAB_CI === 'true',
  identityToken: (env) => () => {
    const token = env[GITLAB_TOKEN_VARIABLE]?.trim();
    if (!token) return Promise.reject(new GitlabError('OIDC_TOKEN_MISSING', `${GITLAB_TOKEN_VARIABLE} is not set: the job needs id_tokens: ${GITLAB_TOKEN_VARIABLE}: aud: sigstore`));
    return Promise.resolve(token);
  },
  statement: (env, input) => Promise.resolve(buildGitlabStatement({ ...input, job: gitlabJob(env, input.identityToken) })),
};

/** Keyless, the token's claims (GitLab's word); with a key, the job's variables (its own). */
export function gitlabJob(env: CiEnv, identityToken: string | undefined): GitlabJob {
  return identityToken === undefined ? gitlabJobFromVariables(env) : gitlabJobFromClaims(decodeClaims(identityToken), env);
}
