// What the side-by-side benchmark needs from each controller it runs: start it against the
// environment, know when it is ready (and how much CPU starting took), and stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchEnv } from './bench-env.ts';
import { cpuSeconds } from './procs.ts';

export interface ControllerSpec {
  /** e.g. `slsa-ml` or `Chains`. */
  readonly name: string;
  /** What the table's configuration column says. */
  readonly configuration: string;
  /** The annotation whose appearance marks a run decided, and the value that means signed. */
  readonly annotation: string;
  readonly signedValue: string;
  /** A finalizer the controller puts on every TaskRun it sees (to wait for before a burst). */
  readonly finalizer?: string;
  start(env: BenchEnv, options: StartOptions): Promise<RunningController>;
}

export interface StartOptions {
  /** Write a CPU profile of the run into this directory. */
  readonly profileDir?: string;
  /** A label for files this start writes (profile, log). */
  readonly label: string;
}

export interface RunningController {
  readonly pid: number;
  /** Resolves once it can reconcile (leading, watching), with the CPU seconds used to get there. */
  ready(timeoutMs?: number): Promise<number>;
  /** Marks the burst's start and end, for controllers profiled over a window. */
  profileWindow?(seconds: number): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// However the benchmark ends, no controller outlives it.
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

/** A child process whose output is kept (bounded) for readiness checks and error messages. */
export class Child {
  readonly process: ChildProcess;
  #output = '';

  constructor(command: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    this.process = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this.process);
    this.process.once('exit', () => running.delete(this.process));
    const keep = (d: Buffer): void => {
      this.#output += d.toString();
      if (this.#output.length > 4_000_000) this.#output = this.#output.slice(-2_000_000);
    };
    this.process.stdout?.on('data', keep);
    this.process.stderr?.on('data', keep);
  }

  get pid(): number {
    return this.process.pid ?? 0;
  }

  output(): string {
    return this.#output;
  }

  exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** Polls `done` until true; fails with the output's tail if the process exits or time runs out. */
  async waitFor(what: string, done: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (this.exited()) throw new Error(`${what}: the process exited:\n${this.#output.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s:\n${this.#output.slice(-3000)}`);
      await sleep(100);
    }
    return cpuSeconds(this.pid) ?? NaN;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
    if (this.exited()) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
