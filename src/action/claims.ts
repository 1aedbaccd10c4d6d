// The run as GitHub describes it in the OIDC token — the same claims Fulcio copies into the
// certificate, so the statement and its certificate cannot disagree. The GITHUB_* variables
// must tell the same story; a difference means something rewrote the environment.
import type { GithubRun } from '../provenance/index.ts';
import { jwtClaims } from '../signing/sigstore/jwt-claims.ts';
import { ActionError } from './errors.ts';
import type { ActionEnv } from './runner.ts';

type Claims = Readonly<Record<string, unknown>>;

const REQUIRED = ['repository', 'ref', 'sha', 'event_name', 'workflow_ref', 'job_workflow_ref', 'run_id', 'run_attempt'] as const;

/** Claim ↔ variable pairs that must agree when the variable is set. */
const SAME_AS_ENV: ReadonlyArray<readonly [string, string]> = [
  ['repository', 'GITHUB_REPOSITORY'],
  ['ref', 'GITHUB_REF'],
  ['sha', 'GITHUB_SHA'],
  ['event_name', 'GITHUB_EVENT_NAME'],
  ['workflow_ref', 'GITHUB_WORKFLOW_REF'],
  ['run_id', 'GITHUB_RUN_ID'],
  ['run_attempt', 'GITHUB_RUN_ATTEMPT'],
];

export function decodeClaims(token: string): Claims {
  const claims = jwtClaims(token);
  if (!claims) throw new ActionError('OIDC_TOKEN_INVALID', 'the OIDC token is not a JWT with a JSON payload');
  return claims;
}

/**
 * Events whose ref and commit are the code the run was started for. Others (pull_request_target,
 * workflow_run, issue_comment, repository_dispatch, …) run on the base or default branch while
 * the job commonly checks out other code, so the recorded source would be the wrong one.
 */
const SUPPORTED_EVENTS = new Set(['push', 'workflow_dispatch', 'release', 'schedule', 'pull_request', 'merge_group']);

export function githubRun(claims: Claims, env: ActionEnv): GithubRun {
  for (const name of REQUIRED) {
    if (claim(claims, name) === undefined) throw new ActionError('OIDC_TOKEN_INVALID', `the OIDC token has no ${name} claim`);
  }
  const event = claim(claims, 'event_name') ?? '';
  if (!SUPPORTED_EVENTS.has(event)) {
    throw new ActionError('UNSUPPORTED_EVENT',
      `${event} runs name ${claim(claims, 'ref') ?? '?'} as their source, which need not be the code the job trained from; call the workflow from ${[...SUPPORTED_EVENTS].join(', ')} runs`);
  }
  for (const [name, variable] of SAME_AS_ENV) {
    const fromEnv = env[variable];
    if (fromEnv && fromEnv !== claim(claims, name)) {
      throw new ActionError('ENVIRONMENT_MISMATCH', `${variable}=${fromEnv} but the OIDC token's ${name} claim is ${claim(claims, name) ?? '(none)'}`);
    }
  }
  const get = (name: string): string => claim(claims, name) ?? '';
  return {
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    repository: get('repository'),
    ref: get('ref'),
    sha: get('sha'),
    eventName: get('event_name'),
    workflowRef: get('workflow_ref'),
    jobWorkflowRef: get('job_workflow_ref'),
    runId: get('run_id'),
    runAttempt: get('run_attempt'),
    ...optional('repositoryId', claim(claims, 'repository_id')),
    ...optional('repositoryOwnerId', claim(claims, 'repository_owner_id')),
    ...optional('jobWorkflowSha', claim(claims, 'job_workflow_sha')),
    ...optional('runnerEnvironment', claim(claims, 'runner_environment')),
  };
}

// GitHub sends every claim as a string; numbers are accepted for robustness.
function claim(claims: Claims, name: string): string | undefined {
  const value = claims[name];
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
