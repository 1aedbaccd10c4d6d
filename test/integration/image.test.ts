import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { freePort } from '../../hack/env/ports.ts';
import { digestLocalPath } from '../../src/digest/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { BUILDER_ID, signRun, storeSiblings, writeKeyPair } from '../support/cli.ts';
import { testEnv } from '../harness/index.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');

// No Docker engine runs here, so the image is checked by doing what its Dockerfile does: the same
// COPY set, the same production-only `npm ci`, its RUN steps (with the image's absolute paths
// mapped into a scratch root), then its entrypoint or the commands on its PATH, run directly.
let root: string;
let app: string;
let binDir: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'slsa-ml-image-'));
  app = join(root, 'app');
  binDir = join(root, 'usr', 'local', 'bin');
  mkdirSync(app, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \.\/?\S*$/gm)].flatMap((m) => (m[1] ?? '').split(/\s+/));
  for (const path of new Set(copies)) cpSync(join(repo, path), join(app, path), { recursive: true });
  // --prefer-offline: the packages come from the npm cache that `npm ci` filled before the tests.
  await run('sh', ['-c', `${npmCi()} --prefer-offline`], { cwd: app });
  for (const step of runSteps()) applyStep(step);
});

function npmCi(): string {
  const npm = /^RUN (npm ci [^\n]+)$/m.exec(dockerfile)?.[1];
  assert.ok(npm?.includes('--omit=dev'), 'the image installs production dependencies only');
  return npm ?? '';
}

/** The final stage's RUN steps other than npm ci, split at &&. */
function runSteps(): string[] {
  const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return [...final.matchAll(/^RUN (.+)$/gm)].flatMap((m) => (m[1] ?? '').split('&&').map((s) => s.trim()));
}

const inRoot = (path: string): string => (path.startsWith('/app/') ? join(app, path.slice('/app/'.length)) : join(root, path));

// Only the step kinds the Dockerfile uses are understood; anything else fails the test, so a new
// RUN step cannot go unexercised.
function applyStep(step: string): void {
  const chmod = /^chmod (0?[0-7]{3,4}) (\S+)$/.exec(step);
  const link = /^ln -s (\S+) (\S+)$/.exec(step);
  if (chmod?.[1] && chmod[2]) chmodSync(inRoot(chmod[2]), parseInt(chmod[1], 8));
  else if (link?.[1] && link[2]) {
    mkdirSync(dirname(inRoot(link[2])), { recursive: true });
    symlinkSync(inRoot(link[1]), inRoot(link[2]));
  } else assert.fail(`the image test does not know how to apply the Dockerfile step: RUN ${step}`);
}

describe('the container image recipe (Dockerfile), run without Docker', () => {
  it('installs production dependencies only and starts the operator from its entrypoint', async () => {
    assert.throws(() => readFileSync(join(app, 'node_modules', 'typescript', 'package.json')), 'dev dependencies are not installed');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.+\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    const env = testEnv();
    const config = join(app, 'config.yaml');
    writeFileSync(config, stringify({ leaderElection: { enabled: false }, http: { port: await freePort(), host: '127.0.0.1' }, signer: { kind: 'key', keyPath: join(app, 'cosign.key') } }));
    await run(process.execPath, [join(app, entrypoint[1]?.replace('/app/', '') ?? ''), 'keygen', '--no-password', '--output-key-prefix', join(app, 'cosign')], { cwd: app });
    const child = spawn(process.execPath, [join(app, 'operator', 'bin.ts'), 'operator', '--config', config], {
      cwd: app, env: { PATH: process.env.PATH ?? '', KUBECONFIG: env.kubeconfigPath, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 20_000;
    while (!output.includes('/metrics') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /"severity":"INFO"/);
  });

  it('runs the verify-model Task\'s script as written: slsa-ml is on the image\'s PATH', async () => {
    const task = parse(readFileSync(join(repo, 'tasks', 'verify-model.yaml'), 'utf8')) as { spec: { steps: Array<{ script: string }> } };
    const script = join(root, 'verify-step.sh');
    writeFileSync(script, task.spec.steps[0]?.script ?? '', { mode: 0o755 });
    const models = join(root, 'models');
    mkdirSync(models);
    const key = await writeKeyPair(root, 'operator');
    const model = join(models, 'pytorch_model.pth');
    writeFileSync(model, 'weights');
    await storeSiblings(createStorage(), `file://${model}`, await signRun({ modelUri: `file://${model}` }, await digestLocalPath(model), { privatePem: key.privatePem }));
    // What the Task's env gives the step; node is on PATH in the image (its base image).
    const env = { PATH: `${binDir}:${dirname(process.execPath)}:/usr/bin:/bin`, COSIGN_PUB: key.publicPem, MODEL_URI: model, BUILDER_ID, SOURCE_REPO: '', WAIT_TIMEOUT: '5' };
    const verified = await run(script, [], { env }).catch((err: unknown) => assert.fail(`the step failed: ${JSON.stringify(err)}`));
    assert.match(verified.stdout, /\nVERIFIED\n/);
    const refused = await run(script, [], { env: { ...env, BUILDER_ID: 'https://slsa-ml.dev/operators/someone-else' } }).then(() => undefined, (err: unknown) => err as { code: number; stdout: string; stderr: string });
    assert.equal(refused?.code, 1);
    assert.match(refused?.stderr ?? '', /verification failed: .* is not trusted/);
  });
});
