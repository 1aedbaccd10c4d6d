// slsa-ml pull against fake-gcs-server, as KServe's storage initializer runs it: gs:// models
// (an object, and a SavedModel-like prefix with several shards) attested by `slsa-ml attest`
// (provenance and model signature) are downloaded, verified and moved into DEST. Every tampered or
// refused model exits 1 with DEST empty and the reason in the termination message.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { testEnv, uniqueName } from '../harness/index.ts';
import { BUILDER_ID, cli, cliProcess, hasStackTrace, taskRunFor, writeKeyPair, type CliRun, type KeyFiles, type RunFacts } from '../support/cli.ts';

let scratch: string;
let key: KeyFiles;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-pull-gcs-'));
  key = await writeKeyPair(scratch, 'cosign');
});
after(() => rm(scratch, { recursive: true, force: true }));

const bucket = () => testEnv().storageClient().bucket(testEnv().bucket);
const gs = (name: string) => `gs://${testEnv().bucket}/${name}`;
const SHARDS = 5;

interface Model {
  /** Object name in the bucket; a directory model's ends in "/". */
  readonly name: string;
  readonly uri: string;
  readonly files: Record<string, Buffer>;
}

function savedModelFiles(): Record<string, Buffer> {
  const files: Record<string, Buffer> = { 'saved_model.pb': randomBytes(4096), 'fingerprint.pb': randomBytes(20), 'variables/variables.index': randomBytes(512), 'assets/vocab.txt': Buffer.from('a\nb\nc\n') };
  for (let i = 0; i < SHARDS; i++) files[`variables/variables.data-0000${i}-of-0000${SHARDS}`] = randomBytes(150_000 + i * 7000);
  return files;
}

/** Uploads a model and attests it with `slsa-ml attest` (bundle, envelope and MODEL.sig). */
async function attestedModel(kind: 'file' | 'directory', facts: Partial<RunFacts> = {}): Promise<Model> {
  const prefix = `${uniqueName(`pull-${kind}`)}/`;
  const name = kind === 'file' ? `${prefix}resnet/v3/pytorch_model.pth` : `${prefix}resnet/v3/saved_model/`;
  const files = kind === 'file' ? { 'pytorch_model.pth': randomBytes(400_000) } : savedModelFiles();
  await Promise.all(Object.entries(files).map(([path, data]) => bucket().file(kind === 'file' ? name : name + path).save(data, { resumable: false })));
  const taskRun = join(scratch, `${uniqueName('taskrun')}.json`);
  await writeFile(taskRun, JSON.stringify(taskRunFor({ modelUri: gs(name), ...facts })));
  const attest = await cli(['attest', '--taskrun', taskRun, '--key', key.privatePath, '--allowed-prefix', gs(prefix), '--builder-id', BUILDER_ID, '--gcs-endpoint', testEnv().gcsEndpoint]);
  assert.equal(attest.code, 0, attest.stderr);
  return { name, uri: gs(name), files };
}

interface Pulled extends CliRun {
  readonly dest: string;
  readonly message: string | undefined;
}

async function newDest(): Promise<string> {
  const dest = join(await mkdtemp(join(scratch, 'pod-')), 'mnt', 'models');
  // KServe's DEST is an emptyDir that exists before the initializer runs.
  await mkdir(dest, { recursive: true });
  return dest;
}

/** `slsa-ml pull MODEL DEST` in this process, flags from the command line. */
async function pull(model: string, ...flags: string[]): Promise<Pulled> {
  const dest = await newDest();
  const messagePath = join(dest, '..', 'termination-log');
  const run = await cli(['pull', model, dest, '--key', key.publicPath, '--gcs-endpoint', testEnv().gcsEndpoint, '--termination-message-path', messagePath, ...flags]);
  return { ...run, dest, message: existsSync(messagePath) ? await readFile(messagePath, 'utf8') : undefined };
}

/** The real executable with only MODEL and DEST, everything else from the environment. */
async function pullAsKserve(model: string, env: Record<string, string> = {}): Promise<Pulled> {
  const dest = await newDest();
  const messagePath = join(dest, '..', 'termination-log');
  await writeFile(messagePath, '');
  const run = await cliProcess(['pull', model, dest], {
    env: { SLSA_ML_GCS_ENDPOINT: testEnv().gcsEndpoint, SLSA_ML_TERMINATION_MESSAGE_PATH: messagePath, SLSA_ML_PULL_KEY: key.publicPath, ...env },
  });
  return { ...run, dest, message: await readFile(messagePath, 'utf8') };
}

async function assertHolds(dest: string, files: Record<string, Buffer>): Promise<void> {
  const onDisk = (await readdir(dest, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dest.length + 1)).sort();
  assert.deepEqual(onDisk, Object.keys(files).sort());
  for (const [path, data] of Object.entries(files)) assert.ok((await readFile(join(dest, path))).equals(data), `${path} holds the object's bytes`);
}

async function assertRefused(run: Pulled, reason: RegExp): Promise<void> {
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /^slsa-ml pull: gs:\/\/\S+ refused, nothing written to \S+: [^\n]+\n$/);
  assert.match(run.stderr, reason);
  assert.equal(run.message, run.stderr.trimEnd(), 'the termination message is the stderr line');
  assert.deepEqual(await readdir(run.dest), [], 'DEST is empty');
  assert.equal(hasStackTrace(run.stderr), false);
}

async function flipByte(name: string, at: number): Promise<void> {
  const [bytes] = await bucket().file(name).download();
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  await bucket().file(name).save(bytes, { resumable: false });
}

describe('when a gs:// model is as attested', () => {
  it('an object is downloaded into DEST/NAME, verified with its model signature, one line on stdout', async () => {
    const model = await attestedModel('file', { frameworks: ['pkg:pypi/torch@2.8.0'] });
    const run = await pull(model.uri, '--builder-id', BUILDER_ID, '--deny', 'pkg:pypi/torch@<2.6.0', '--require-model-signature');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, new RegExp(`^slsa-ml pull: verified ${model.uri} sha256:[0-9a-f]{64} \\(1 file, 400000 bytes\\) built by ${BUILDER_ID}, model signature verified; written to ${run.dest}\\n$`));
    await assertHolds(run.dest, model.files);
    assert.equal(run.message, undefined);
  });

  it('a SavedModel prefix with several shards lands under DEST, measured as verify measures it', async () => {
    const model = await attestedModel('directory', { frameworks: ['pkg:pypi/tensorflow-cpu@2.20.0'] });
    const run = await pull(model.uri, '--builder-id', BUILDER_ID, '--concurrency', '4', '--require-model-signature');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`verified ${model.uri} sha256:[0-9a-f]{64} \\(${SHARDS + 4} files, `));
    await assertHolds(run.dest, model.files);
    const verified = await cli(['verify', model.uri, '--key', key.publicPath, '--gcs-endpoint', testEnv().gcsEndpoint]);
    const digest = /sha256:([0-9a-f]{64})/.exec(run.stdout)?.[1] ?? '';
    assert.match(verified.stdout, new RegExp(`PASS {2}subject +sha256:${digest} is subject`), 'pull and verify measure the prefix alike');
    const local = await cli(['verify', run.dest, '--key', key.publicPath, '--provenance', `${model.uri.slice(0, -1)}.sigstore.json`, '--gcs-endpoint', testEnv().gcsEndpoint]);
    assert.equal(local.code, 0, `the copy in DEST verifies too: ${local.stdout}`);
  });

  it('the real executable, given only MODEL and DEST as KServe runs it, takes its flags from SLSA_ML_PULL_*', async () => {
    const model = await attestedModel('directory');
    const run = await pullAsKserve(model.uri, { SLSA_ML_PULL_BUILDER_ID: BUILDER_ID, SLSA_ML_PULL_REQUIRE_MODEL_SIGNATURE: 'true' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    await assertHolds(run.dest, model.files);
    assert.equal(run.message, '', 'nothing written to the termination message on success');
  });
});

describe('when a gs:// model must be refused', () => {
  it('one byte flipped in the object after attest: subject', async () => {
    const model = await attestedModel('file');
    await flipByte(model.name, 1000);
    await assertRefused(await pull(model.uri), /: subject: no subject has sha256:[0-9a-f]{64} .*\[SUBJECT_MISMATCH\]/);
  });

  it('two shards of the prefix exchanged: subject, naming the files changed', async () => {
    const model = await attestedModel('directory');
    const [a, b] = ['variables/variables.data-00001-of-00005', 'variables/variables.data-00003-of-00005'];
    const [bytesA] = await bucket().file(model.name + a).download();
    const [bytesB] = await bucket().file(model.name + b).download();
    await bucket().file(model.name + a).save(bytesB, { resumable: false });
    await bucket().file(model.name + b).save(bytesA, { resumable: false });
    const run = await pull(model.uri);
    await assertRefused(run, /: subject: .*\[SUBJECT_MISMATCH\] \(also failed: files, model signature files\)$/m);
    const verified = await cli(['verify', model.uri, '--key', key.publicPath, '--gcs-endpoint', testEnv().gcsEndpoint]);
    assert.match(verified.stdout, /FAIL {2}files +changed variables\/variables\.data-00001-of-00005, changed variables\/variables\.data-00003-of-00005/);
  });

  it('the object replaced by another model after attest: subject', async () => {
    const model = await attestedModel('file');
    await bucket().file(model.name).save(randomBytes(400_000), { resumable: false });
    await assertRefused(await pull(model.uri), /\[SUBJECT_MISMATCH\]/);
  });

  it('built by a builder the policy does not trust: builderId', async () => {
    const model = await attestedModel('file');
    await assertRefused(await pull(model.uri, '--builder-id', 'https://slsa-ml.dev/operators/prod'), new RegExp(`: builderId: built by ${BUILDER_ID}, want https://slsa-ml\\.dev/operators/prod \\[BUILDER_MISMATCH\\]`));
  });

  it('trained with a denied torch version: the deny rule names it', async () => {
    const model = await attestedModel('directory', { frameworks: ['pkg:pypi/torch@2.5.1'] });
    await assertRefused(await pull(model.uri, '--deny', 'pkg:pypi/torch@<2.6.0'), /: deny pkg:pypi\/torch@<2\.6\.0: trained with pkg:pypi\/torch@2\.5\.1 \[DENIED_DEPENDENCY\]/);
  });

  it('no provenance next to the object: provenance', async () => {
    const name = `${uniqueName('pull-bare')}/model.pth`;
    await bucket().file(name).save(randomBytes(1000), { resumable: false });
    await assertRefused(await pull(gs(name)), /: provenance: no provenance next to the model: .*\[PROVENANCE_NOT_FOUND\]/);
  });

  it('the real executable writes the same line to the termination message and exits 1', async () => {
    const model = await attestedModel('directory', { frameworks: ['pkg:pypi/torch@2.5.1'] });
    await assertRefused(await pullAsKserve(model.uri, { SLSA_ML_PULL_DENY: 'pkg:pypi/torch@<2.6.0\n' }), /\[DENIED_DEPENDENCY\]/);
  });
});
