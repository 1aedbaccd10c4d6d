// Starts each component in its own process group, detached, so `env up` can exit while the
// environment keeps running, and `env down` can end a component together with its children.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
  /** How it was started, so a test can restart it exactly (same port, certificates, data). */
  readonly command: string;
  readonly args: readonly string[];
  /** The whole environment it was given, when not the caller's own. */
  readonly env?: Readonly<Record<string, string>>;
}

export function startDetached(name: string, command: string, args: readonly string[], log: string, env?: Readonly<Record<string, string>>): Started {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], ...(env ? { env } : {}) });
    if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    child.unref();
    return { name, pid: child.pid, log, command, args, ...(env ? { env } : {}) };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function tail(log: string, lines = 15): string {
  try {
    return readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `ready` until it resolves true; fails early, with the log's tail, if the process dies. */
export async function waitReady(proc: Started, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(proc.pid)) {
      throw new Error(`${proc.name} exited during start-up; last lines of ${proc.log}:\n${tail(proc.log)}`);
    }
    if (await ready().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${proc.name} not ready after ${timeoutMs} ms; last lines of ${proc.log}:\n${tail(proc.log)}`);
}

/** SIGTERM to the whole process group, then SIGKILL after a grace period. */
export async function stopGroup(pid: number, graceMs = 5000): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  signal('SIGKILL');
  // Bounded: a killed child of ours can linger as a zombie until Node reaps it.
  const killDeadline = Date.now() + 2000;
  while (isAlive(pid) && Date.now() < killDeadline) await sleep(20);
}
