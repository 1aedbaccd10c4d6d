// The job as its own predefined CI_* variables describe it: used only when signing with a key or
// Cloud KMS, where there is no ID token. Anything in the job can set these, so the statement
// records factsFrom "ci_variables": the key holder vouches for them, not GitLab.
// https://docs.gitlab.com/ci/variables/predefined_variables/
import type { GitlabJob } from '../../provenance/index.ts';
import type { CiEnv } from '../platform.ts';
import { jobOnlyVariables, optional } from './claims.ts';
import { GitlabError } from './errors.ts';

const REQUIRED = ['CI_SERVER_URL', 'CI_PROJECT_PATH', 'CI_COMMIT_REF_NAME', 'CI_COMMIT_SHA', 'CI_PIPELINE_ID', 'CI_PIPELINE_SOURCE', 'CI_JOB_ID', 'CI_CONFIG_PATH'] as const;

export function gitlabJobFromVariables(env: CiEnv): GitlabJob {
  for (const name of REQUIRED) {
    if (!env[name]) throw new GitlabError('VARIABLE_MISSING', `${name} is not set: run attest-ci in a GitLab CI/CD job`);
  }
  const server = serverName(env);
  const get = (name: string): string => env[name] ?? '';
  // CI_COMMIT_TAG is set only in pipelines for tags.
  const tag = Boolean(env.CI_COMMIT_TAG);
  const ref = `refs/${tag ? 'tags' : 'heads'}/${get('CI_COMMIT_REF_NAME')}`;
  return {
    serverUrl: get('CI_SERVER_URL').replace(/\/+$/, ''),
    projectPath: get('CI_PROJECT_PATH'),
    ref,
    refType: tag ? 'tag' : 'branch',
    sha: get('CI_COMMIT_SHA'),
    pipelineId: get('CI_PIPELINE_ID'),
    pipelineSource: get('CI_PIPELINE_SOURCE'),
    jobId: get('CI_JOB_ID'),
    // GitLab's ci_config_ref_uri for a config in the project's own repository.
    ciConfigRefUri: `${server}/${get('CI_PROJECT_PATH')}//${get('CI_CONFIG_PATH')}@${ref}`,
    ...optional('projectId', env.CI_PROJECT_ID || undefined),
    ...optional('namespacePath', env.CI_PROJECT_NAMESPACE || undefined),
    ...optional('namespaceId', env.CI_PROJECT_NAMESPACE_ID || undefined),
    ...optional('refProtected', env.CI_COMMIT_REF_PROTECTED || undefined),
    ...optional('runnerId', env.CI_RUNNER_ID || undefined),
    ...optional('userLogin', env.GITLAB_USER_LOGIN || undefined),
    ...optional('projectVisibility', env.CI_PROJECT_VISIBILITY || undefined),
    factsFrom: 'ci_variables',
    ciVariables: jobOnlyVariables(env),
  };
}

// GitLab's ci_config_ref_uri names the instance by its FQDN, port included; CI_SERVER_HOST has no
// port (and older GitLab sets no CI_SERVER_FQDN).
function serverName(env: CiEnv): string {
  const server = env.CI_SERVER_FQDN || env.CI_SERVER_HOST;
  if (!server) throw new GitlabError('VARIABLE_MISSING', 'CI_SERVER_FQDN (or CI_SERVER_HOST) is not set: run attest-ci in a GitLab CI/CD job');
  return server;
}
