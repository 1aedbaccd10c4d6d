#!/usr/bin/env node
// The `slsa-ml` executable. `slsa-ml operator` runs the controller (this folder); every other
// command is the user-facing CLI in src/cli, which must not depend on the operator.
import { enableCompileCache, flushCompileCache } from 'node:module';
import { parseArgs } from 'node:util';

// V8's compiled code (and the stripped TypeScript) of every module loaded from here on is kept on
// disk — $NODE_COMPILE_CACHE, else the OS temp directory — and reused by the next start of the
// same files: start-up CPU is about 0.4 s instead of 1 s. A directory that cannot be written
// (a read-only file system) only means no cache.
enableCompileCache();

const [command, ...rest] = process.argv.slice(2);

if (command === 'operator') {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({ args: rest, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    console.error(`slsa-ml operator: ${(err as Error).message}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(`Usage: slsa-ml operator [--config FILE]

Watches Tekton TaskRuns and writes signed SLSA provenance next to the models they train.

  --config FILE   the operator configuration (the mounted ConfigMap); default $SLSA_ML_CONFIG.
                  Reloaded when it changes. Environment variables SLSA_ML_* override its keys.

See docs/configuration.md for every key.`);
    process.exit(0);
  }
  try {
    const { runOperator } = await import('./main.ts');
    // Written now rather than at exit: an operator usually ends by SIGTERM or SIGKILL.
    flushCompileCache();
    await runOperator({ configPath: values.config ?? process.env.SLSA_ML_CONFIG });
  } catch (err) {
    // The operator's output is JSON log lines read by Cloud Logging: a failure to start (bad
    // configuration, an unreadable kubeconfig or key) is one more such line, never a stack trace.
    process.stdout.write(`${startupFailure(err)}\n`);
    process.exit((err as { code?: unknown }).code === 'INVALID_CONFIG' ? 2 : 1);
  }
} else if (command === 'gate') {
  try {
    const { runGate } = await import('./gate/main.ts');
    const server = await runGate(rest);
    if (server) {
      const stop = (): void => { void server.close().then(() => process.exit(0)); };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    }
  } catch (err) {
    process.stderr.write(`slsa-ml gate: ${(err as Error).message.split('\n')[0] ?? ''}\n`);
    process.exit((err as Error).name === 'GateUsageError' ? 2 : 1);
  }
} else if (command === 'seal-key') {
  const { runSealKey } = await import('./seal-key-command.ts');
  const { code, out } = await runSealKey(rest, process.env);
  (code === 0 ? process.stdout : process.stderr).write(`${out}\n`);
  process.exitCode = code;
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}

function startupFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  return JSON.stringify({
    severity: 'CRITICAL',
    time: new Date().toISOString(),
    message: `slsa-ml operator cannot start: ${message}`,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(process.env.SLSA_ML_DEBUG && err instanceof Error ? { stack: err.stack } : {}),
  });
}
