// Everything the demo starts registers how to stop it here; the stops run once, newest first,
// on a normal end, on an error, and on Ctrl-C or SIGTERM (the environment's processes are
// detached process groups, so nothing else would end them).
type Stop = () => Promise<unknown>;

const stops: Array<{ name: string; stop: Stop }> = [];
let running: Promise<void> | undefined;
let signalExitCode: number | undefined;

export function onCleanup(name: string, stop: Stop): void {
  stops.push({ name, stop });
}

export function cleanup(): Promise<void> {
  running ??= (async (): Promise<void> => {
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        console.error(`demo: stopping ${name} failed: ${String(err)}`);
      }
    }
  })();
  return running;
}

/** 130 or 143 once Ctrl-C or SIGTERM arrived: the demo's steps then fail, and say nothing. */
export function interruptedExitCode(): number | undefined {
  return signalExitCode;
}

/** Ctrl-C and SIGTERM stop everything, then exit 130 / 143 as a shell expects. */
export function cleanupOnSignals(): void {
  const handler = (signal: NodeJS.Signals, code: number): void => {
    if (signalExitCode !== undefined) return;
    signalExitCode = code;
    console.error(`\ndemo: ${signal}, stopping everything it started`);
    void cleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => handler('SIGINT', 130));
  process.on('SIGTERM', () => handler('SIGTERM', 143));
}
