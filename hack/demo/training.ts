// Trains a real tiny model with the project's training code (tasks/training), as the train
// step of the train-model Task runs it: a synthetic 38-image data set in the CIFAR10 archive
// layout (the one tasks/tests use), one step, pytorch_model.pth uploaded straight to
// fake-gcs-server, and the Task's results read back from its results directory.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunResult } from '../../test/support/training-run.ts';

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

function readResults(dir: string): RunResult[] {
  return readdirSync(dir).sort().map((name) => {
    const text = readFileSync(join(dir, name), 'utf8');
    // Object and array results are JSON; string results (CHAINS-GIT_*) are the text itself.
    if (!/^\s*[[{]/.test(text)) return { name, type: 'string', value: text };
    const value = JSON.parse(text) as unknown;
    return { name, type: Array.isArray(value) ? 'array' : 'object', value };
  });
}

export interface TrainingRun {
  readonly python: string;
  readonly workDir: string;
  /** gs:// base; the step appends the format name. */
  readonly modelBase: string;
  readonly gcsEndpoint: string;
}

/** Writes the tests' tiny CIFAR10-layout archive to `archive`; returns its sha256. */
export async function writeTinyCifar(python: string, archive: string): Promise<string> {
  const { stdout } = await run(python, ['-c', WRITE_ARCHIVE, archive], { cwd: tasksDir, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  return stdout.trim();
}

export async function trainTinyModel(t: TrainingRun): Promise<{ uri: string; results: RunResult[]; log: string }> {
  const archive = join(t.workDir, 'cifar-10-python.tar.gz');
  const sha = await writeTinyCifar(t.python, archive);
  const resultsDir = join(t.workDir, 'results');
  const { stderr } = await run(t.python, [
    '-m', 'training', '--format', 'pytorch_model.pth', '--epochs', '1', '--batch-size', '32',
    '--dataset-uri', `file://${archive}`, '--dataset-sha256', sha,
    '--model-uri', t.modelBase, '--storage-endpoint', t.gcsEndpoint, '--results-dir', resultsDir,
  ], { cwd: tasksDir, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, maxBuffer: 16 * 1024 * 1024 });
  const results = readResults(resultsDir);
  const model = results.find((r) => r.name === 'model_ARTIFACT_OUTPUTS')?.value as { uri?: string } | undefined;
  if (!model?.uri) throw new Error(`the training step reported no model_ARTIFACT_OUTPUTS; its log:\n${stderr}`);
  return { uri: model.uri, results, log: stderr };
}
