// slsa-ml verify against fake-gcs-server: gs:// objects and gs:// prefixes (directory models)
// with provenance written next to them by the real libraries. Good models pass; every tamper
// case fails with exit code 1 and the check that caught it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { digestStorage } from '../../src/digest/index.ts';
import { createStorage, type Storage } from '../../src/storage/index.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { BUILDER_ID, cli, cliProcess, failedChecks, hasStackTrace, signRun, storeSiblings, writeKeyPair, type KeyFiles, type RunFacts } from '../support/cli.ts';

let scratch: string;
let key: KeyFiles;
let otherKey: KeyFiles;
let storage: Storage;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-verify-gcs-'));
  key = await writeKeyPair(scratch, 'cosign');
  otherKey = await writeKeyPair(scratch, 'other');
  storage = createStorage({ gcs: { apiEndpoint: testEnv().gcsEndpoint } });
});
after(() => rm(scratch, { recursive: true, force: true }));

const bucket = () => testEnv().storageClient().bucket(testEnv().bucket);
const DIRECTORY: Record<string, Buffer | string> = {
  'saved_model.pb': randomBytes(4096),
  'fingerprint.pb': randomBytes(20),
  'variables/variables.index': randomBytes(512),
  'variables/variables.data-00000-of-00001': randomBytes(300_000),
  'assets/vocab.txt': 'a\nb\nc\n',
};

/** Uploads a model and signs it; returns its gs:// URI (ending in "/" for a directory). */
async function signedModel(kind: 'file' | 'directory', facts: Partial<RunFacts> = {}, privatePem = key.privatePem): Promise<string> {
  const prefix = `${uniqueName(`verify-${kind}`)}/resnet/v3`;
  let uri: string;
  if (kind === 'file') {
    await bucket().file(`${prefix}/pytorch_model.pth`).save(randomBytes(200_000), { resumable: false });
    uri = `gs://${testEnv().bucket}/${prefix}/pytorch_model.pth`;
  } else {
    await Promise.all(Object.entries(DIRECTORY).map(([path, data]) => bucket().file(`${prefix}/saved_model/${path}`).save(data, { resumable: false })));
    uri = `gs://${testEnv().bucket}/${prefix}/saved_model/`;
  }
  await storeSiblings(storage, uri, await signRun({ modelUri: uri, ...facts }, await digestStorage(storage, uri), { privatePem }));
  return uri;
}

const keyOf = (uri: string) => uri.slice(`gs://${testEnv().bucket}/`.length);

async function verify(model: string, ...flags: string[]) {
  const run = await cli(['verify', model, '--key', key.publicPath, '--gcs-endpoint', testEnv().gcsEndpoint, '--json', ...flags]);
  assert.equal(run.stderr, '');
  return { code: run.code, failed: failedChecks(run.stdout), verdict: JSON.parse(run.stdout) as { provenance: string; model: string } };
}

describe('when a gs:// model is as signed', () => {
  it('an object verifies (exit 0) with every policy flag that holds', async () => {
    const uri = await signedModel('file', { namespace: 'team-vision', frameworks: ['pkg:pypi/torch@2.8.0'] });
    const run = await verify(uri, '--builder-id', BUILDER_ID, '--namespace', 'team-vision', '--deny', 'pkg:pypi/torch@<2.6.0', '--max-age', '30d',
      '--source-repo', 'github.com/example/cifar10-training');
    assert.equal(run.code, 0, JSON.stringify(run.failed));
    assert.equal(run.verdict.provenance, `${uri}.sigstore.json`);
  });

  it('a prefix verifies, named with or without its trailing slash', async () => {
    const uri = await signedModel('directory');
    for (const name of [uri, uri.slice(0, -1)]) {
      const run = await verify(name);
      assert.equal(run.code, 0, `${name}: ${JSON.stringify(run.failed)}`);
      assert.equal(run.verdict.model, uri);
      assert.equal(run.verdict.provenance, `${uri.slice(0, -1)}.sigstore.json`);
    }
  });

  it('the real executable finds the emulator through $SLSA_ML_GCS_ENDPOINT and prints VERIFIED', async () => {
    const uri = await signedModel('file');
    const run = await cliProcess(['verify', uri, '--key', key.publicPath], { env: { SLSA_ML_GCS_ENDPOINT: testEnv().gcsEndpoint } });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /\nVERIFIED\n$/);
    assert.equal(run.stderr, '');
  });
});

describe('when a gs:// object model or its provenance was tampered with', () => {
  it('one byte changed in the object: subject fails', async () => {
    const uri = await signedModel('file');
    const [bytes] = await bucket().file(keyOf(uri)).download();
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await bucket().file(keyOf(uri)).save(bytes, { resumable: false });
    const run = await verify(uri);
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { subject: 'SUBJECT_MISMATCH' });
  });

  it('provenance moved next to another model: subject fails', async () => {
    const signed = await signedModel('file');
    const other = await signedModel('file');
    for (const suffix of ['.sigstore.json', '.intoto.jsonl']) await bucket().file(keyOf(signed) + suffix).copy(bucket().file(`${keyOf(other)}${suffix}.moved`));
    for (const suffix of ['.sigstore.json', '.intoto.jsonl']) {
      await bucket().file(keyOf(other) + suffix).delete();
      await bucket().file(`${keyOf(other)}${suffix}.moved`).move(keyOf(other) + suffix);
    }
    const run = await verify(other);
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { subject: 'SUBJECT_MISMATCH' });
  });

  it('signed by another key: signature fails with WRONG_KEY', async () => {
    const uri = await signedModel('file', {}, otherKey.privatePem);
    const run = await verify(uri);
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { signature: 'WRONG_KEY' });
  });

  it('no provenance next to the object: exit 1', async () => {
    const name = `${uniqueName('bare')}/model.pth`;
    await bucket().file(name).save('weights', { resumable: false });
    const run = await verify(`gs://${testEnv().bucket}/${name}`);
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { provenance: 'PROVENANCE_NOT_FOUND' });
  });
});

describe('when a gs:// prefix model was changed after signing', () => {
  const cases: Array<[string, (prefix: string) => Promise<unknown>, Record<string, string>]> = [
    ['an object added', (p) => bucket().file(`${p}variables/extra.bin`).save('injected', { resumable: false }), { subject: 'SUBJECT_MISMATCH', files: 'FILES_MISMATCH' }],
    ['an object removed', (p) => bucket().file(`${p}assets/vocab.txt`).delete(), { subject: 'SUBJECT_MISMATCH', files: 'FILES_MISMATCH' }],
    ['an object renamed', (p) => bucket().file(`${p}assets/vocab.txt`).move(`${p}assets/vocab2.txt`), { files: 'FILES_MISMATCH' }],
    ['one byte changed in an object', (p) => bucket().file(`${p}assets/vocab.txt`).save('a\nb\nd\n', { resumable: false }), { subject: 'SUBJECT_MISMATCH', files: 'FILES_MISMATCH' }],
  ];
  for (const [what, change, failed] of cases) {
    it(`${what}: fails with exit code 1`, async () => {
      const uri = await signedModel('directory');
      await change(keyOf(uri));
      const run = await verify(uri);
      assert.equal(run.code, 1);
      assert.deepEqual(run.failed, failed);
    });
  }
});

describe('when the provenance of a gs:// model does not satisfy the policy', () => {
  it('another builder, another source, a denied framework: each check fails by name', async () => {
    const uri = await signedModel('directory', { frameworks: ['pkg:pypi/tensorflow@2.11.0'], sourceUrl: 'https://github.com/fork/training' });
    const run = await verify(uri, '--builder-id', 'https://slsa-ml.dev/operators/prod', '--source-repo', 'github.com/example/cifar10-training',
      '--deny', 'pkg:pypi/tensorflow@<2.12.0');
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { builderId: 'BUILDER_MISMATCH', sourceRepo: 'SOURCE_MISMATCH', 'deny pkg:pypi/tensorflow@<2.12.0': 'DENIED_DEPENDENCY' });
  });
});

describe('when the gs:// model does not exist', () => {
  it('exits 2 naming the object and the prefix it also tried, without a stack trace', async () => {
    const uri = `gs://${testEnv().bucket}/${uniqueName('missing')}/model.pth`;
    const run = await cli(['verify', uri, '--key', key.publicPath, '--gcs-endpoint', testEnv().gcsEndpoint]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `slsa-ml verify: model ${uri}: no such object, and no objects under ${uri}/\n`);
    assert.equal(hasStackTrace(run.stderr), false);
  });
});
