// slsa-ml attest on local (file://) storage: provenance for a finished TaskRun, written
// create-only next to each model, that slsa-ml verify accepts; refusals leave storage untouched.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { stringify } from 'yaml';

import { digestLocalPath } from '../../src/digest/index.ts';
import { verifyModelSignature } from '../../src/model-signing/index.ts';
import { createSignatureVerifier } from '../../src/verify/index.ts';
import { startKmsStandin, type KmsStandin } from '../support/kms-standin.ts';
import { cli, failedChecks, hasStackTrace, taskRunFor, writeKeyPair, type KeyFiles, type RunFacts } from '../support/cli.ts';

let root: string;
let key: KeyFiles;
let kms: KmsStandin;
let prefix: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-attest-'));
  key = await writeKeyPair(root, 'cosign');
  prefix = `${pathToFileURL(join(root, 'models')).href}/`;
  kms = await startKmsStandin();
});
after(async () => {
  await kms.close();
  await rm(root, { recursive: true, force: true });
});

let counter = 0;

async function fileModel(): Promise<{ path: string; uri: string }> {
  const dir = join(root, 'models', `run-${counter++}`);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'pytorch_model.pth');
  await writeFile(path, randomBytes(10_000));
  return { path, uri: pathToFileURL(path).href };
}

async function taskRunFile(facts: RunFacts, format: 'json' | 'yaml-list' = 'json'): Promise<string> {
  const path = join(root, `taskrun-${counter++}.${format === 'json' ? 'json' : 'yaml'}`);
  const tr = taskRunFor(facts);
  await writeFile(path, format === 'json' ? JSON.stringify(tr) : stringify({ apiVersion: 'v1', kind: 'List', items: [tr] }));
  return path;
}

const attest = (taskRun: string, ...flags: string[]) => cli(['attest', '--taskrun', taskRun, '--allowed-prefix', prefix, ...flags]);

describe('when a finished TaskRun produced a file model', () => {
  it('writes both siblings, prints where they are, and slsa-ml verify accepts them', async () => {
    const model = await fileModel();
    const sha256 = (await digestLocalPath(model.path)).sha256;
    const run = await attest(await taskRunFile({ modelUri: model.uri, reportedSha256: sha256, namespace: 'team-vision' }), '--key', key.privatePath);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `model     ${model.uri}\n  sha256    ${sha256}\n  bundle    ${model.uri}.sigstore.json\n  envelope  ${model.uri}.intoto.jsonl\n  signature ${model.uri}.sig\n`);
    const envelope = await readFile(`${model.path}.intoto.jsonl`, 'utf8');
    assert.ok(envelope.endsWith('}\n') && !envelope.slice(0, -1).includes('\n'), 'the envelope is one JSON line');
    const bundle = JSON.parse(await readFile(`${model.path}.sigstore.json`, 'utf8')) as { dsseEnvelope: unknown };
    assert.deepEqual(bundle.dsseEnvelope, JSON.parse(envelope), 'both files carry the same signature');
    const verified = await cli(['verify', model.path, '--key', key.publicPath, '--json', '--builder-id', 'https://slsa-ml.dev/cli/attest', '--namespace', 'team-vision']);
    assert.equal(verified.code, 0, verified.stdout);
  });

  it('reads the TaskRun as YAML in a List (kubectl get -o yaml), records Pod and Node facts, and honours --builder-id', async () => {
    const model = await fileModel();
    const fixtures = join(import.meta.dirname, '..', 'fixtures', 'provenance', 'cpu-pytorch');
    const run = await attest(await taskRunFile({ modelUri: model.uri }, 'yaml-list'), '--key', key.privatePath, '--json',
      '--pod', join(fixtures, 'pod.json'), '--node', join(fixtures, 'node.json'), '--builder-id', 'https://slsa-ml.dev/backfill');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((JSON.parse(run.stdout) as { attested: Array<{ model: string }> }).attested.map((a) => a.model), [model.uri]);
    const verified = await cli(['verify', model.path, '--key', key.publicPath, '--json', '--builder-id', 'https://slsa-ml.dev/backfill']);
    assert.equal(verified.code, 0, verified.stdout);
    const statement = (JSON.parse(verified.stdout) as { statement: { predicate: { buildDefinition: { internalParameters: { node?: { nodePool?: string } } } } } }).statement;
    assert.equal(statement.predicate.buildDefinition.internalParameters.node?.nodePool, 'cpu-pool');
  });

  it('signs with a Cloud KMS key version (--kms) that verify --kms accepts', async () => {
    const model = await fileModel();
    const run = await attest(await taskRunFile({ modelUri: model.uri }), '--kms', kms.keyName, '--kms-endpoint', kms.endpoint);
    assert.equal(run.code, 0, run.stderr);
    const verified = await cli(['verify', model.path, '--kms', kms.keyName, '--kms-endpoint', kms.endpoint]);
    assert.equal(verified.code, 0, verified.stdout);
    const wrongKey = await cli(['verify', model.path, '--key', key.publicPath, '--json']);
    assert.deepEqual(failedChecks(wrongKey.stdout), { signature: 'WRONG_KEY' });
  });
});

describe('the model-signing signature (MODEL.sig)', () => {
  it('is written from the same measurement as the provenance and verifies with the same key', async () => {
    const model = await fileModel();
    const run = await attest(await taskRunFile({ modelUri: model.uri }), '--key', key.privatePath, '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { attested: Array<{ signature: string }> }).attested[0]?.signature, `${model.uri}.sig`);
    const measured = await digestLocalPath(model.path);
    const result = await verifyModelSignature({ signature: await readFile(`${model.path}.sig`), trust: await createSignatureVerifier({ kind: 'key', publicKeyPem: key.publicPem }), model: measured });
    assert.ok(result.ok, JSON.stringify(result.checks));
    const resources = (result.statement?.predicate as { resources: Array<{ digest: string }> }).resources;
    assert.deepEqual(resources.map((r) => r.digest), [measured.sha256], 'its one resource is the SLSA subject digest');
  });

  it('is not written with --no-model-signature', async () => {
    const model = await fileModel();
    const run = await attest(await taskRunFile({ modelUri: model.uri }), '--key', key.privatePath, '--no-model-signature', '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { attested: Array<{ signature: string | null }> }).attested[0]?.signature, null);
    assert.deepEqual((await readdir(join(model.path, '..'))).sort(), ['pytorch_model.pth', 'pytorch_model.pth.intoto.jsonl', 'pytorch_model.pth.sigstore.json']);
  });
});

describe('when the model is a directory', () => {
  it('lists its files in the subject, so verify catches a renamed file', async () => {
    const dir = join(root, 'models', `run-${counter++}`, 'saved_model');
    await mkdir(join(dir, 'variables'), { recursive: true });
    await writeFile(join(dir, 'saved_model.pb'), randomBytes(1000));
    await writeFile(join(dir, 'variables', 'variables.index'), randomBytes(100));
    const uri = `${pathToFileURL(dir).href}/`;
    const run = await attest(await taskRunFile({ modelUri: uri }), '--key', key.privatePath);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /bundle +.*\/saved_model\.sigstore\.json\n/);
    assert.equal((await cli(['verify', dir, '--key', key.publicPath])).code, 0);
    await rename(join(dir, 'variables', 'variables.index'), join(dir, 'variables', 'variables.idx'));
    const verified = await cli(['verify', dir, '--key', key.publicPath, '--json']);
    assert.equal(verified.code, 1);
    assert.deepEqual(failedChecks(verified.stdout), { files: 'FILES_MISMATCH' });
  });
});

describe('when attest must refuse', () => {
  async function refused(args: { taskRun: string; dir: string; allowed?: string }, message: RegExp): Promise<void> {
    const before = await readdir(args.dir);
    const run = await cli(['attest', '--taskrun', args.taskRun, '--key', key.privatePath, '--allowed-prefix', args.allowed ?? prefix]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /^slsa-ml attest: refused: /);
    assert.match(run.stderr, message);
    assert.equal(hasStackTrace(run.stderr), false);
    assert.deepEqual(await readdir(args.dir), before, 'nothing was written');
  }

  it('a reported digest that differs from the measured one', async () => {
    const model = await fileModel();
    const taskRun = await taskRunFile({ modelUri: model.uri, reportedSha256: 'f'.repeat(64) });
    await refused({ taskRun, dir: join(model.path, '..') }, /result model_ARTIFACT_OUTPUTS: reported sha256:f{64} but .*pytorch_model\.pth measures sha256:[0-9a-f]{64}/);
  });

  it('provenance that already exists, naming it and leaving it as it was', async () => {
    const model = await fileModel();
    await writeFile(`${model.path}.intoto.jsonl`, 'earlier provenance\n');
    await refused({ taskRun: await taskRunFile({ modelUri: model.uri }), dir: join(model.path, '..') }, new RegExp(`${model.uri}\\.intoto\\.jsonl already exists; provenance is never overwritten`));
    assert.equal(await readFile(`${model.path}.intoto.jsonl`, 'utf8'), 'earlier provenance\n');
  });

  it('a model signature that already exists, before anything is signed or written', async () => {
    const model = await fileModel();
    await writeFile(`${model.path}.sig`, 'planted');
    await refused({ taskRun: await taskRunFile({ modelUri: model.uri }), dir: join(model.path, '..') }, new RegExp(`${model.uri}\\.sig already exists`));
    assert.equal(await readFile(`${model.path}.sig`, 'utf8'), 'planted');
  });

  it('an output outside the allowed prefixes', async () => {
    const model = await fileModel();
    const taskRun = await taskRunFile({ modelUri: model.uri });
    await refused({ taskRun, dir: join(model.path, '..'), allowed: `${pathToFileURL(join(root, 'elsewhere')).href}/` }, /pytorch_model\.pth is outside the allowed prefixes/);
  });
});
