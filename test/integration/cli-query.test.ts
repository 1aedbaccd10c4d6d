// slsa-ml query over a gs:// prefix on fake-gcs-server: models trained with several torch and
// TensorFlow versions, some with provenance signed by another key. Exactly the affected verified
// models are listed; the unverifiable ones are listed as such.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { digestStorage } from '../../src/digest/index.ts';
import { createStorage, type Storage } from '../../src/storage/index.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli, cliProcess, signRun, storeSiblings, writeKeyPair, type KeyFiles } from '../support/cli.ts';

let scratch: string;
let key: KeyFiles;
let storage: Storage;
let under: string;

const MODELS: Array<{ path: string; frameworks: string[]; other?: true }> = [
  { path: 'vision/resnet/v1/model.pth', frameworks: ['pkg:pypi/torch@2.5.1'] },
  { path: 'vision/resnet/v2/model.pth', frameworks: ['pkg:pypi/torch@2.6.0'] },
  { path: 'vision/resnet/v3/model.pth', frameworks: ['pkg:pypi/torch@2.8.0'] },
  { path: 'vision/vit/v1/model.pth', frameworks: ['pkg:pypi/torch@2.2.2'], other: true },
  { path: 'vision/vit/v2/model.pth', frameworks: ['pkg:pypi/torch@1.13.1'] },
  { path: 'nlp/bert/v1/saved_model/', frameworks: ['pkg:pypi/tensorflow@2.11.1'] },
  { path: 'nlp/bert/v2/saved_model/', frameworks: ['pkg:pypi/tensorflow@2.16.1'] },
  { path: 'nlp/t5/v1/saved_model/', frameworks: ['pkg:pypi/tensorflow@2.10.0'], other: true },
];

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-query-gcs-'));
  key = await writeKeyPair(scratch, 'cosign');
  const other = await writeKeyPair(scratch, 'other');
  storage = createStorage({ gcs: { apiEndpoint: testEnv().gcsEndpoint } });
  const prefix = `${uniqueName('query')}/`;
  under = `gs://${testEnv().bucket}/${prefix}`;
  const bucket = testEnv().storageClient().bucket(testEnv().bucket);
  await Promise.all(MODELS.map(async (m) => {
    const objects = m.path.endsWith('/') ? [`${m.path}saved_model.pb`, `${m.path}variables/variables.index`] : [m.path];
    for (const name of objects) await bucket.file(prefix + name).save(randomBytes(3000), { resumable: false });
    const uri = under + m.path;
    const signed = await signRun({ modelUri: uri, frameworks: m.frameworks }, await digestStorage(storage, uri), { privatePem: m.other ? other.privatePem : key.privatePem });
    await storeSiblings(storage, uri, signed);
  }));
});
after(() => rm(scratch, { recursive: true, force: true }));

interface Answer {
  scanned: number;
  affected: Array<{ model: string; matched: string[] }>;
  unverifiable: Array<{ provenance: string; reason: string }>;
}

async function query(...flags: string[]): Promise<Answer> {
  const run = await cli(['query', '--under', under, '--key', key.publicPath, '--gcs-endpoint', testEnv().gcsEndpoint, '--json', ...flags]);
  // Two models' provenance never verifies here: exit 1 (a person must look) whatever matches.
  assert.equal(run.code, 1, run.stderr);
  return JSON.parse(run.stdout) as Answer;
}

describe('when searching a gs:// prefix for vulnerable framework versions', () => {
  it('lists exactly the verified torch models inside the range', async () => {
    const answer = await query('--dependency', 'pkg:pypi/torch@>=2.0.0 <2.6.0', '--concurrency', '3');
    assert.deepEqual(answer.affected.map((a) => [a.model, a.matched]), [[`${under}vision/resnet/v1/model.pth`, ['pkg:pypi/torch@2.5.1']]]);
    assert.equal(answer.scanned, 8);
  });

  it('lists exactly the verified TensorFlow directory models inside the range', async () => {
    const answer = await query('--dependency', 'pkg:pypi/tensorflow@<2.12.0');
    assert.deepEqual(answer.affected.map((a) => a.model), [`${under}nlp/bert/v1/saved_model/`]);
  });

  it('lists the two models signed by another key as unverifiable, whatever they claim', async () => {
    const answer = await query('--dependency', 'pkg:pypi/torch', '--dependency', 'pkg:pypi/tensorflow');
    assert.equal(answer.affected.length, 6);
    assert.deepEqual(answer.unverifiable.map((u) => u.provenance), [`${under}nlp/t5/v1/saved_model.sigstore.json`, `${under}vision/vit/v1/model.pth.sigstore.json`]);
    for (const u of answer.unverifiable) assert.match(u.reason, /^signature: signed by key SHA256:/);
  });

  it('a mistyped gs:// prefix is an input error (exit 2), not "no affected models"', async () => {
    const run = await cliProcess(['query', '--under', `${under}vison/`, '--key', key.publicPath, '--dependency', 'pkg:pypi/torch'], { env: { SLSA_ML_GCS_ENDPOINT: testEnv().gcsEndpoint } });
    assert.equal(run.code, 2, run.stdout);
    assert.match(run.stderr, /no provenance files .* under this prefix; check it, or pass --allow-empty/);
  });

  it('the real executable prints the table', async () => {
    const run = await cliProcess(['query', '--under', under, '--key', key.publicPath, '--dependency', 'pkg:pypi/torch@<2.0.0'], { env: { SLSA_ML_GCS_ENDPOINT: testEnv().gcsEndpoint } });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, new RegExp(`^MODEL +RUN +ID +MATCHED +FINISHED\\n${under}vision/vit/v2/model\\.pth +team-vision/train-model-x1 +[0-9a-f-]{36} +pkg:pypi/torch@1\\.13\\.1 +2026-01-10T08:00:00Z\\n`));
    assert.match(run.stdout, /8 provenance file\(s\) under .*: 6 verified, 1 affected, 2 unverifiable/);
  });
});
