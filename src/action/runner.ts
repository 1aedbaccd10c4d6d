// The GitHub Actions runner protocol, as documented for JavaScript actions: inputs arrive as
// INPUT_<NAME> variables, outputs are appended to the $GITHUB_OUTPUT file, and workflow commands
// (`::error::`, `::add-mask::`) are lines on stdout. Small enough not to need @actions/core.
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';

import { ActionError } from './errors.ts';

export type ActionEnv = Readonly<Record<string, string | undefined>>;

export interface Log {
  info(message: string): void;
  error(message: string): void;
  /** Tells the runner to redact this value from every later log line. */
  mask(secret: string): void;
}

export function input(env: ActionEnv, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

export async function setOutputs(env: ActionEnv, outputs: Readonly<Record<string, string>>): Promise<void> {
  const file = env.GITHUB_OUTPUT;
  if (!file) throw new ActionError('NOT_IN_ACTIONS', 'GITHUB_OUTPUT is not set: run this action in a GitHub Actions job');
  let text = '';
  for (const [name, value] of Object.entries(outputs)) {
    // A random delimiter, so no value can end the block early and inject another output.
    const delimiter = `ghadelimiter_${randomUUID()}`;
    text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }
  await appendFile(file, text, 'utf8');
}

export function stdoutLog(write: (line: string) => void = (line) => process.stdout.write(line)): Log {
  return {
    info: (message) => write(`${message}\n`),
    error: (message) => write(`::error::${escapeData(message)}\n`),
    mask: (secret) => write(`::add-mask::${escapeData(secret)}\n`),
  };
}

function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
