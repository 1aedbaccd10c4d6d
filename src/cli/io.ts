// Everything a command touches outside its arguments, so tests can run commands in-process
// with captured output, a pinned clock and a fake terminal.
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Where SIGTERM and SIGINT arrive: the process, or a test's own emitter. */
export interface SignalSource {
  on(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  off(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdin?: NodeJS.ReadableStream;
  /** Commands that clean up on a signal (pull) listen here; default the process. */
  readonly signals?: SignalSource;
  now(): Date;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), stdin: process.stdin, now: () => new Date() };
}
