// One measured run of a child process for the pull benchmark: wall time (spawn to exit), the
// child's peak RSS and CPU (GNU time), the file server's CPU over the run, and how much CPU the
// rest of the machine used meanwhile (all busy time in /proc/stat less ours): other engineers'
// builds on a shared machine show up there instead of silently slowing a figure.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { cpuSeconds, ownCpuSeconds } from './procs.ts';

const run = promisify(execFile);
const TICKS_PER_SECOND = 100;

export interface Sample {
  readonly case: string;
  readonly bytes: number;
  readonly seconds: number;
  readonly peakRssMB: number;
  /** The child's user + system CPU seconds. */
  readonly cpu: number;
  /** The file server's CPU seconds during the run. */
  readonly serverCpu: number;
  /** CPU seconds the rest of the machine used during the run. */
  readonly othersCpu: number;
  readonly load: number;
  readonly stdout: string;
}

/** Busy CPU seconds of the whole machine so far (every CPU; steal excluded). */
function machineBusy(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return (user + nice + system + irq + softirq) / TICKS_PER_SECOND;
}

export interface ChildRun {
  readonly name: string;
  readonly bytes: number;
  readonly command: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export async function measureChild(child: ChildRun, serverPid: number): Promise<Sample> {
  const load = loadavg()[0] ?? NaN;
  const busy0 = machineBusy();
  const server0 = cpuSeconds(serverPid) ?? NaN;
  const own0 = ownCpuSeconds();
  const t0 = performance.now();
  const [cmd, ...args] = child.command;
  // GNU time's %e is only to 10 ms; the driver's clock is the wall time.
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'TIME %M %U %S', cmd as string, ...args], {
    maxBuffer: 16 << 20,
    env: { ...process.env, ...child.env },
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${child.name} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  });
  const seconds = (performance.now() - t0) / 1000;
  const serverCpu = (cpuSeconds(serverPid) ?? NaN) - server0;
  const driverCpu = ownCpuSeconds() - own0;
  const busy = machineBusy() - busy0;
  const line = stderr.split('\n').find((l) => l.startsWith('TIME ')) ?? '';
  const [, rssKb, user, sys] = line.split(' ').map(Number);
  const cpu = (user ?? NaN) + (sys ?? NaN);
  return {
    case: child.name, bytes: child.bytes, seconds, peakRssMB: (rssKb ?? NaN) / 1024, cpu, serverCpu,
    othersCpu: Math.max(0, busy - cpu - serverCpu - driverCpu), load, stdout,
  };
}

/**
 * Waits while the 1-minute load average is above `maxLoad` (polling every 30 s, at most
 * `maxWaitS`), and says so. Returns the load it went on with.
 */
export async function waitForQuiet(maxLoad: number, log: (line: string) => void, maxWaitS = 600): Promise<number> {
  const deadline = Date.now() + maxWaitS * 1000;
  let load = loadavg()[0] ?? 0;
  while (load > maxLoad && Date.now() < deadline) {
    log(`load average ${load.toFixed(2)} > ${maxLoad}: waiting 30 s`);
    await sleep(30_000);
    load = loadavg()[0] ?? 0;
  }
  if (load > maxLoad) log(`load average still ${load.toFixed(2)} after ${maxWaitS} s: measuring anyway`);
  return load;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
