// Entry point of the slsa-ml JavaScript action (action.yml, runs.using: node24). The reusable
// workflow .github/workflows/provenance.yml checks this repository out at its own commit and
// runs `npm ci --omit=dev` first; the action's code is never a prebuilt bundle.
import type { ActionContext } from './run.ts';
import { stdoutLog } from './runner.ts';

const log = stdoutLog();

async function main(): Promise<number> {
  let runAction: (ctx: ActionContext) => Promise<void>;
  try {
    ({ runAction } = await import('./run.ts'));
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    log.error(`slsa-ml's dependencies are not installed (${(err as Error).message.split('\n')[0] ?? ''}): run it through the reusable workflow slsa-ml/slsa-ml/.github/workflows/provenance.yml, which runs npm ci first`);
    return 1;
  }
  try {
    await runAction({ env: process.env, log, now: () => new Date() });
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    log.error(typeof code === 'string' ? `${code}: ${(err as Error).message}` : `internal error: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = await main();
