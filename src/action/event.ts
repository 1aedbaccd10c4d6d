// The inputs a person typed when dispatching the workflow (workflow_dispatch), read from the
// event payload the runner writes to $GITHUB_EVENT_PATH. They are external parameters.
import { readFile } from 'node:fs/promises';

import { ActionError } from './errors.ts';
import type { ActionEnv } from './runner.ts';

export async function dispatchInputs(env: ActionEnv, eventName: string): Promise<Record<string, unknown> | undefined> {
  const path = env.GITHUB_EVENT_PATH;
  if (eventName !== 'workflow_dispatch' || !path) return undefined;
  let event: unknown;
  try {
    event = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (cause) {
    throw new ActionError('EVENT_UNREADABLE', `cannot read the event payload $GITHUB_EVENT_PATH (${path})`, { cause });
  }
  const inputs = (event as { inputs?: unknown } | null)?.inputs;
  return typeof inputs === 'object' && inputs !== null && !Array.isArray(inputs) ? (inputs as Record<string, unknown>) : undefined;
}
