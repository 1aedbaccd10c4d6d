// `slsa-ml verify` as a user runs it from a checkout (node operator/bin.ts verify …), its
// report passed straight through to the demo's output.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', '..', 'operator', 'bin.ts');

export function verifyCommand(args: readonly string[]): string {
  return ['node operator/bin.ts verify', ...args].join(' ');
}

export function runVerify(args: readonly string[]): Promise<number | null> {
  const child = spawn(process.execPath, [bin, 'verify', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}
