// The training venv of this machine, and the tiny data set the demo trains on: a synthetic
// 38-image data set in the CIFAR10 archive layout (the one tasks/tests use).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const tasksDir = join(repo, 'tasks');

/** The cached training venv's python, or undefined when it was never (fully) built. */
export async function trainingPython(): Promise<string | undefined> {
  const { stdout } = await run('bash', [join(repo, 'hack', 'install-tools.sh'), 'training-dir']);
  const dir = stdout.trim();
  return dir && existsSync(join(dir, '.complete')) ? join(dir, 'bin', 'python') : undefined;
}

const WRITE_ARCHIVE = [
  'import hashlib, sys',
  'from pathlib import Path',
  'from tests.cifar_fixture import write_cifar_archive',
  'p = write_cifar_archive(Path(sys.argv[1]))',
  'print(hashlib.sha256(p.read_bytes()).hexdigest())',
].join('\n');

/** Writes the tests' tiny CIFAR10-layout archive to `archive`; returns its sha256. */
export async function writeTinyCifar(python: string, archive: string): Promise<string> {
  const { stdout } = await run(python, ['-c', WRITE_ARCHIVE, archive], { cwd: tasksDir, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  return stdout.trim();
}
