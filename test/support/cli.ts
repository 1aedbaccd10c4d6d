// Runs slsa-ml commands for tests — in-process (fast, captured output, pinned clock) or as the
// real `node operator/bin.ts` process — and makes signed provenance fixtures with the real
// libraries: a TaskRun like the training Task reports, buildStatement, a key signer.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { runCli } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { provenanceLocations } from '../../src/layout/index.ts';
import type { ModelDigest } from '../../src/digest/index.ts';
import { buildStatement, modelSubject, serializeStatement, type TaskRun } from '../../src/provenance/index.ts';
import { createSigner, signStatement, type SignedProvenance } from '../../src/signing/index.ts';
import type { Storage } from '../../src/storage/index.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const execFileAsync = promisify(execFile);

export const NOW = new Date('2026-01-15T12:00:00Z');
export const BUILDER_ID = 'https://slsa-ml.dev/operators/test-us-central1';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
  readonly now?: Date;
  /** Pretend stderr is a terminal of this width. */
  readonly tty?: { columns: number };
}

/** `slsa-ml ARGV` in this process. */
export async function cli(argv: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), ...(options.tty ? { isTTY: true, columns: options.tty.columns } : {}) },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    now: () => options.now ?? NOW,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

/** `node operator/bin.ts ARGV`: the real executable, its exit code and both streams. */
export async function cliProcess(argv: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env };
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [join(repoRoot, 'operator', 'bin.ts'), ...argv], { cwd: options.cwd ?? repoRoot, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export interface KeyFiles {
  readonly privatePem: string;
  readonly publicPem: string;
  readonly privatePath: string;
  readonly publicPath: string;
}

export async function writeKeyPair(dir: string, name: string): Promise<KeyFiles> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const privatePath = join(dir, `${name}.key`);
  const publicPath = join(dir, `${name}.pub`);
  await writeFile(privatePath, privatePem, { mode: 0o600 });
  await writeFile(publicPath, publicPem);
  return { privatePem, publicPem, privatePath, publicPath };
}

export interface RunFacts {
  readonly modelUri: string;
  /** Reported by the Task as the output digest (sha256 hex); omitted = not reported. */
  readonly reportedSha256?: string;
  readonly frameworks?: readonly string[];
  readonly namespace?: string;
  readonly name?: string;
  readonly uid?: string;
  readonly sourceUrl?: string;
  readonly commit?: string;
  readonly finishedOn?: string;
  readonly trainImageSha256?: string;
}

/** A finished training TaskRun (tekton.dev/v1) as the cluster returns it, built from the CPU golden fixture. */
export function taskRunFor(facts: RunFacts): TaskRun & { metadata: { uid: string } } {
  const tr = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'provenance', 'cpu-pytorch', 'taskrun.json'), 'utf8')) as TaskRunJson;
  tr.metadata.name = facts.name ?? 'train-model-x1';
  tr.metadata.namespace = facts.namespace ?? 'team-vision';
  tr.metadata.uid = facts.uid ?? randomUUID();
  tr.status.completionTime = facts.finishedOn ?? '2026-01-10T08:00:00Z';
  tr.status.startTime = '2026-01-10T07:00:00Z';
  if (facts.trainImageSha256) {
    const train = tr.status.steps.find((s) => s.name === 'train');
    if (train) train.imageID = `us-docker.pkg.dev/example-ml/images/pytorch-train@sha256:${facts.trainImageSha256}`;
  }
  const values: Record<string, unknown> = {
    model_ARTIFACT_OUTPUTS: outputHint(facts),
    'CHAINS-GIT_URL': facts.sourceUrl ?? 'https://github.com/example/cifar10-training',
    'CHAINS-GIT_COMMIT': facts.commit ?? 'ec0b4f0b5c90ed0fa911a2972ccc452641b31563',
    FRAMEWORKS: [...(facts.frameworks ?? ['pkg:pypi/torch@2.8.0', 'pkg:pypi/numpy@2.3.4'])],
  };
  for (const result of tr.status.results) if (result.name in values) result.value = values[result.name];
  return tr;
}

function outputHint(facts: RunFacts): Record<string, string> {
  const output: Record<string, string> = { uri: facts.modelUri, isBuildArtifact: 'true' };
  if (facts.reportedSha256) output.digest = `sha256:${facts.reportedSha256}`;
  return output;
}

interface TaskRunJson {
  metadata: { name: string; namespace: string; uid: string };
  status: { completionTime: string; startTime: string; steps: Array<{ name: string; imageID: string }>; results: Array<{ name: string; value: unknown }> };
}

export interface SignOptions {
  readonly privatePem: string;
  readonly builderId?: string;
  readonly schemes?: readonly string[];
}

/** Provenance for the run's model, as the operator writes it (buildStatement + key signer). */
export async function signRun(facts: RunFacts, measured: ModelDigest, options: SignOptions): Promise<SignedProvenance> {
  const statement = buildStatement({
    taskRun: taskRunFor(facts),
    settings: { builderId: options.builderId ?? BUILDER_ID, builderVersion: { 'slsa-ml': '0.1.0' }, outputSchemes: options.schemes ?? ['gs', 'file'] },
    subjects: [modelSubject(facts.modelUri, measured)],
  });
  return signStatement(serializeStatement(statement), await createSigner({ kind: 'key', keyPem: options.privatePem }));
}

/** Writes `<model>.sigstore.json` and `<model>.intoto.jsonl` next to the model, create-only. */
export async function storeSiblings(storage: Storage, modelUri: string, signed: SignedProvenance): Promise<{ bundle: string; envelope: string }> {
  const loc = provenanceLocations(modelUri);
  await storage.createOnly(loc.bundle, Buffer.from(signed.bundleJson), 'application/json');
  await storage.createOnly(loc.envelope, Buffer.from(signed.envelopeJsonl), 'application/jsonl');
  return { bundle: loc.bundle, envelope: loc.envelope };
}

/** The failed checks of a `verify --json` run, as name → code. */
export function failedChecks(stdout: string): Record<string, string> {
  const verdict = JSON.parse(stdout) as { checks: Array<{ name: string; ok: boolean; code?: string }> };
  return Object.fromEntries(verdict.checks.filter((c) => !c.ok).map((c) => [c.name, c.code ?? '']));
}

/** A stack trace line ("    at fn (file:1:2)") in output a user sees. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(:\d+:\d+\)?|\(node:)/m.test(text);
}
