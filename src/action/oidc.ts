// The job's OIDC identity token, from the endpoint the runner exposes to jobs granted
// `permissions: id-token: write`. Fulcio checks its signature; we only read its claims.
import { ActionError } from './errors.ts';
import type { ActionEnv } from './runner.ts';

const TIMEOUT_MS = 30_000;

export async function requestIdToken(env: ActionEnv, audience: string): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) {
    throw new ActionError('OIDC_UNAVAILABLE', 'no OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL): the job needs `permissions: id-token: write`');
  }
  const request = URL.parse(url);
  if (!request) throw new ActionError('OIDC_UNAVAILABLE', 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  request.searchParams.set('audience', audience);
  const response = await fetch(request, {
    headers: { authorization: `bearer ${bearer}`, accept: 'application/json' },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).catch((cause: unknown) => {
    throw new ActionError('OIDC_UNAVAILABLE', `the OIDC token endpoint ${request.host} is unreachable`, { cause });
  });
  if (!response.ok) throw new ActionError('OIDC_UNAVAILABLE', `the OIDC token endpoint answered HTTP ${response.status}`);
  const body = (await response.json().catch(() => undefined)) as { value?: unknown } | undefined;
  if (typeof body?.value !== 'string' || body.value === '') {
    throw new ActionError('OIDC_UNAVAILABLE', 'the OIDC token endpoint answered without a token (expected {"value": "<jwt>"})');
  }
  return body.value;
}
