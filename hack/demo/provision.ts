// What the demo runs, built on first use by hack/provision.sh (which prints nothing when all is
// cached): the local environment, cosign for the cross-check, and the CPU training venv unless
// --synthetic leaves training out.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');

export function demoItems(synthetic: boolean): string[] {
  return ['env', 'cosign', ...(synthetic ? [] : ['training'])];
}

/** Runs hack/provision.sh with its progress on stderr; rejects when it could not build something. */
export function provision(items: readonly string[]): Promise<void> {
  const child = spawn('bash', [join(repo, 'hack', 'provision.sh'), ...items], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`provisioning ${items.join(', ')} failed (${signal ?? `exit ${String(code)}`}); the lines above say why`));
    });
  });
}
