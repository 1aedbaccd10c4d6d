// slsa-ml query over a prefix of models trained with several torch and TensorFlow versions, some
// with provenance that does not verify: exactly the affected verified models are listed, and the
// unverifiable ones are listed apart, never as affected.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { forEachBounded } from '../../src/cli/query/bounded.ts';
import { digestLocalPath } from '../../src/digest/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { cli, signRun, storeSiblings, writeKeyPair, type KeyFiles } from '../support/cli.ts';

const storage = createStorage();
const TRAIN_IMAGE = 'a'.repeat(64);
let root: string;
let under: string;
let key: KeyFiles;

interface Spec {
  readonly path: string;
  readonly frameworks: string[];
  readonly directory?: boolean;
  readonly signer?: 'other';
  readonly envelopeOnly?: boolean;
  readonly image?: string;
}

const MODELS: Spec[] = [
  { path: 'vision/resnet/v0/model.pth', frameworks: ['pkg:pypi/torch@1.13.1'] },
  { path: 'vision/resnet/v1/model.pth', frameworks: ['pkg:pypi/torch@2.5.1', 'pkg:pypi/numpy@1.26.4'] },
  { path: 'vision/resnet/v2/model.pth', frameworks: ['pkg:pypi/torch@2.6.0'] },
  { path: 'vision/vit/v1/model.pth', frameworks: ['pkg:pypi/torch@2.3.0+cu121'], envelopeOnly: true },
  { path: 'vision/vit/v2/model.pth', frameworks: ['pkg:pypi/torch@2.4.0'], signer: 'other' },
  { path: 'nlp/bert/v1/saved_model', frameworks: ['pkg:pypi/tensorflow@2.11.0'], directory: true, image: TRAIN_IMAGE },
  { path: 'nlp/bert/v2/saved_model', frameworks: ['pkg:pypi/tensorflow-cpu@2.20.0'], directory: true },
  { path: 'nlp/gpt/v1/model.safetensors', frameworks: ['pkg:pypi/torch@2.1.2'], image: TRAIN_IMAGE },
];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-query-'));
  key = await writeKeyPair(root, 'cosign');
  const other = await writeKeyPair(root, 'other');
  under = `${pathToFileURL(join(root, 'models')).href}/`;
  for (const spec of MODELS) {
    const path = join(root, 'models', spec.path);
    const uri = await writeModel(path, spec.directory === true);
    const signed = await signRun({ modelUri: uri, frameworks: spec.frameworks, name: `train-${spec.path.split('/')[1] ?? ''}`, ...(spec.image ? { trainImageSha256: spec.image } : {}) },
      await digestLocalPath(path), { privatePem: spec.signer === 'other' ? other.privatePem : key.privatePem });
    const stored = await storeSiblings(storage, uri, signed);
    if (spec.envelopeOnly) await unlink(new URL(stored.bundle));
  }
  // Provenance copied next to a model it does not describe.
  const stray = join(root, 'models', 'vision', 'stray');
  await writeModel(join(stray, 'model.pth'), false);
  await copyFile(join(root, 'models', 'vision/resnet/v1/model.pth.sigstore.json'), join(stray, 'model.pth.sigstore.json'));
  // A model without provenance is not a provenance file: it is not counted.
  await writeModel(join(root, 'models', 'vision', 'unsigned', 'model.pth'), false);
});
after(() => rm(root, { recursive: true, force: true }));

async function writeModel(path: string, directory: boolean): Promise<string> {
  if (!directory) {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, randomBytes(2000));
    return pathToFileURL(path).href;
  }
  await mkdir(join(path, 'variables'), { recursive: true });
  await writeFile(join(path, 'saved_model.pb'), randomBytes(500));
  await writeFile(join(path, 'variables', 'variables.index'), randomBytes(100));
  return `${pathToFileURL(path).href}/`;
}

const uriOf = (path: string, directory = false) => `${under}${path}${directory ? '/' : ''}`;

interface Answer {
  scanned: number;
  verified: number;
  affected: Array<{ model: string; matched: string[]; taskRun: { namespace: string; name: string; uid: string }; finishedOn: string }>;
  unverifiable: Array<{ provenance: string; reason: string }>;
}

async function query(...flags: string[]): Promise<Answer> {
  const run = await cli(['query', '--under', under, '--key', key.publicPath, '--json', ...flags]);
  // Under the whole prefix there are always unverifiable files: exit 1 whether or not a model matches.
  assert.equal(run.code, 1, run.stderr);
  return JSON.parse(run.stdout) as Answer;
}

describe('when searching for a vulnerable torch range', () => {
  it('lists exactly the verified models trained inside the range, with their TaskRun and finish time', async () => {
    const answer = await query('--dependency', 'pkg:pypi/torch@>=2.0.0 <2.6.0');
    assert.deepEqual(answer.affected.map((a) => [a.model, a.matched]), [
      [uriOf('nlp/gpt/v1/model.safetensors'), ['pkg:pypi/torch@2.1.2']],
      [uriOf('vision/resnet/v1/model.pth'), ['pkg:pypi/torch@2.5.1']],
      [uriOf('vision/vit/v1/model.pth'), ['pkg:pypi/torch@2.3.0+cu121']],
    ]);
    const resnet = answer.affected.find((a) => a.model.endsWith('resnet/v1/model.pth'));
    assert.equal(resnet?.taskRun.namespace, 'team-vision');
    assert.equal(resnet?.taskRun.name, 'train-resnet');
    assert.match(resnet?.taskRun.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(resnet?.finishedOn, '2026-01-10T08:00:00Z');
  });

  it('lists provenance signed by another key or not naming its model as unverifiable, not as affected', async () => {
    const answer = await query('--dependency', 'pkg:pypi/torch@>=2.0.0 <2.6.0');
    assert.deepEqual(answer.unverifiable.map((u) => u.provenance), [
      uriOf('vision/stray/model.pth.sigstore.json'),
      uriOf('vision/vit/v2/model.pth.sigstore.json'),
    ]);
    assert.match(answer.unverifiable[1]?.reason ?? '', /^signature: .*signed by key/);
    assert.match(answer.unverifiable[0]?.reason ?? '', /^subject: no subject has sha256:/, 'the verdict verify gives: SUBJECT_MISMATCH');
    assert.equal(answer.scanned, 9, 'one file per model (bundle, or envelope when alone), plus the stray one');
    assert.equal(answer.verified, 7);
  });
});

describe('when searching for TensorFlow versions, several rules, or an image', () => {
  it('finds directory models by their framework, and any rule selects', async () => {
    const answer = await query('--dependency', 'pkg:pypi/tensorflow@<2.12', '--dependency', 'pkg:pypi/torch@<2.0.0');
    assert.deepEqual(answer.affected.map((a) => a.model), [uriOf('nlp/bert/v1/saved_model', true), uriOf('vision/resnet/v0/model.pth')]);
  });

  it('finds the models whose steps ran a given image digest', async () => {
    const answer = await query('--image', `sha256:${TRAIN_IMAGE}`);
    assert.deepEqual(answer.affected.map((a) => [a.model, a.matched]), [
      [uriOf('nlp/bert/v1/saved_model', true), [`oci://us-docker.pkg.dev/example-ml/images/pytorch-train@sha256:${TRAIN_IMAGE}`]],
      [uriOf('nlp/gpt/v1/model.safetensors'), [`oci://us-docker.pkg.dev/example-ml/images/pytorch-train@sha256:${TRAIN_IMAGE}`]],
    ]);
  });

  it('with --check-digests, also re-measures each model (a changed model becomes unverifiable)', async () => {
    const answer = await query('--dependency', 'pkg:pypi/tensorflow', '--check-digests', '--concurrency', '2');
    assert.deepEqual(answer.affected.map((a) => a.model), [uriOf('nlp/bert/v1/saved_model', true)]);
    await writeFile(join(root, 'models', 'nlp/bert/v1/saved_model/variables/variables.index'), 'changed');
    const after = await query('--dependency', 'pkg:pypi/tensorflow', '--check-digests');
    assert.deepEqual(after.affected, []);
    assert.ok(after.unverifiable.some((u) => u.provenance === uriOf('nlp/bert/v1/saved_model.sigstore.json') && /^subject: /.test(u.reason)));
  });

  it('prints a table with model, TaskRun, UID, what matched and the finish time', async () => {
    const run = await cli(['query', '--under', under, '--key', key.publicPath, '--dependency', 'pkg:pypi/torch@==2.5.*']);
    assert.equal(run.code, 1);
    const [header, row, ...rest] = run.stdout.split('\n');
    assert.match(header ?? '', /^MODEL +RUN +ID +MATCHED +FINISHED$/);
    assert.match(row ?? '', new RegExp(`^${uriOf('vision/resnet/v1/model.pth')} +team-vision/train-resnet +[0-9a-f-]{36} +pkg:pypi/torch@2\\.5\\.1 +2026-01-10T08:00:00Z$`));
    assert.match(rest.join('\n'), /UNVERIFIABLE \(not trusted; not counted as affected or clear\):\n {2}.*stray\/model\.pth\.sigstore\.json {2}/);
  });
});

describe('when a job gates on the exit code', () => {
  const gate = (prefix: string, ...flags: string[]) => cli(['query', '--under', `${under}${prefix}`, '--key', key.publicPath, '--dependency', 'pkg:pypi/torch@<2.6.0', ...flags]);

  it('exits 0 when every provenance file verified and no model is affected', async () => {
    const run = await gate('vision/resnet/v2/');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /no affected models/);
  });

  it('exits 1 when a model is affected', async () => {
    const run = await gate('vision/resnet/v1/');
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /pkg:pypi\/torch@2\.5\.1/);
  });

  it('exits 1 when provenance cannot be verified, even with nothing affected', async () => {
    const run = await gate('vision/vit/v2/');
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /0 affected, 1 unverifiable/);
  });

  it('exits 2 (NO_PROVENANCE) when the prefix holds no provenance at all — a mistyped prefix — unless --allow-empty', async () => {
    const run = await gate('vision/resnte/');
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^slsa-ml query: --under .*vision\/resnte\/: no provenance files .* under this prefix; check it, or pass --allow-empty\n$/);
    const allowed = await gate('vision/resnte/', '--allow-empty');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /0 provenance file\(s\)/);
  });
});

describe('when a model was copied together with its provenance', () => {
  it('gives the verdict verify gives: verified (and affected), though the provenance names the old location', async () => {
    const copy = join(root, 'copies', 'resnet-v1');
    await mkdir(copy, { recursive: true });
    for (const name of ['model.pth', 'model.pth.sigstore.json', 'model.pth.intoto.jsonl']) await copyFile(join(root, 'models', 'vision/resnet/v1', name), join(copy, name));
    const verify = await cli(['verify', join(copy, 'model.pth'), '--key', key.publicPath]);
    assert.equal(verify.code, 0, verify.stdout);
    const run = await cli(['query', '--under', `${pathToFileURL(copy).href}/`, '--key', key.publicPath, '--dependency', 'pkg:pypi/torch@<2.6.0', '--json']);
    assert.equal(run.code, 1, run.stderr);
    const answer = JSON.parse(run.stdout) as Answer;
    assert.deepEqual(answer.unverifiable, []);
    assert.deepEqual(answer.affected.map((a) => a.model), [pathToFileURL(join(copy, 'model.pth')).href]);
    await writeFile(join(copy, 'model.pth'), 'changed after copying');
    const changed = JSON.parse((await cli(['query', '--under', `${pathToFileURL(copy).href}/`, '--key', key.publicPath, '--dependency', 'pkg:pypi/torch', '--json'])).stdout) as Answer;
    assert.match(changed.unverifiable[0]?.reason ?? '', /^subject: no subject has sha256:/, 'a changed copy fails as in verify');
  });
});

describe('when the listing is large', () => {
  it('pulls objects from the listing only as workers free up, never more than the limit at once', async () => {
    let pulled = 0;
    let done = 0;
    let maxRunning = 0;
    let maxAhead = 0;
    async function* listing() {
      for (let i = 0; i < 200; i++) {
        await Promise.resolve();
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - done);
        yield i;
      }
    }
    let running = 0;
    await forEachBounded(listing(), 8, async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      running--;
      done++;
    });
    assert.equal(done, 200);
    assert.equal(maxRunning, 8);
    assert.ok(maxAhead <= 9, `the listing ran ${maxAhead} items ahead of the work`);
  });

  it('stops pulling after a failure and reports it', async () => {
    let pulled = 0;
    async function* listing() {
      for (let i = 0; i < 1000; i++) {
        await Promise.resolve();
        pulled++;
        yield i;
      }
    }
    await assert.rejects(forEachBounded(listing(), 4, async (i) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (i === 10) throw new Error('listing broke');
    }), /listing broke/);
    assert.ok(pulled < 50, `pulled ${pulled} items after the failure`);
  });
});
