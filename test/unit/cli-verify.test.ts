// slsa-ml verify on local models (files, directories, file:// URIs), with provenance made by the
// real libraries. Every tamper case must fail with exit code 1 and name the check that caught it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { digestLocalPath } from '../../src/digest/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { BUILDER_ID, cli, failedChecks, signRun, storeSiblings, writeKeyPair, type KeyFiles, type RunFacts } from '../support/cli.ts';

const storage = createStorage();
let root: string;
let key: KeyFiles;
let otherKey: KeyFiles;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-verify-'));
  key = await writeKeyPair(root, 'cosign');
  otherKey = await writeKeyPair(root, 'other');
});
after(() => rm(root, { recursive: true, force: true }));

interface Model {
  readonly path: string;
  readonly uri: string;
}

async function fileModel(facts: Partial<RunFacts> = {}, privatePem = key.privatePem): Promise<Model> {
  const dir = await mkdtemp(join(root, 'file-'));
  const path = join(dir, 'pytorch_model.pth');
  await writeFile(path, randomBytes(50_000));
  const uri = pathToFileURL(path).href;
  await storeSiblings(storage, uri, await signRun({ modelUri: uri, ...facts }, await digestLocalPath(path), { privatePem }));
  return { path, uri };
}

async function directoryModel(): Promise<Model> {
  const dir = await mkdtemp(join(root, 'dir-'));
  const path = join(dir, 'saved_model');
  await mkdir(join(path, 'variables'), { recursive: true });
  await mkdir(join(path, 'assets'));
  await writeFile(join(path, 'saved_model.pb'), randomBytes(4000));
  await writeFile(join(path, 'variables', 'variables.index'), randomBytes(300));
  await writeFile(join(path, 'variables', 'variables.data-00000-of-00001'), randomBytes(20_000));
  await writeFile(join(path, 'assets', 'vocab.txt'), 'a\nb\nc\n');
  const uri = `${pathToFileURL(path).href}/`;
  const measured = await digestLocalPath(path);
  const facts = { modelUri: uri, frameworks: ['pkg:pypi/tensorflow-cpu@2.20.0'] };
  await storeSiblings(storage, uri, await signRun(facts, measured, { privatePem: key.privatePem }));
  return { path, uri };
}

async function verifyJson(model: string, ...flags: string[]) {
  const run = await cli(['verify', model, '--key', key.publicPath, '--json', ...flags]);
  assert.equal(run.stderr, '', 'nothing on stderr');
  return { ...run, failed: failedChecks(run.stdout), verdict: JSON.parse(run.stdout) as Record<string, unknown> };
}

describe('when a local file model is as signed', () => {
  it('verifies (exit 0) and prints each check, the TaskRun and VERIFIED', async () => {
    const model = await fileModel({ namespace: 'team-vision', name: 'train-resnet-7' });
    const run = await cli(['verify', model.path, '--key', key.publicPath]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    for (const check of ['document', 'signature', 'subject']) assert.match(run.stdout, new RegExp(`PASS {2}${check}`));
    assert.match(run.stdout, /taskrun +team-vision\/train-resnet-7 \(uid [0-9a-f-]{36}\)/);
    assert.match(run.stdout, /\nVERIFIED\n$/);
    assert.equal(run.stderr, '', 'no progress bar when stderr is not a terminal');
  });

  it('takes a --key that is the PEM itself (a literal environment value), and refuses it from another key', async () => {
    const model = await fileModel();
    // --key=VALUE: a value that begins with '-' needs the = form (as for any option parser).
    const inline = await cli(['verify', model.path, `--key=${readFileSync(key.publicPath, 'utf8')}`]);
    assert.equal(inline.code, 0, inline.stdout + inline.stderr);
    const other = await cli(['verify', model.path, `--key=${readFileSync(otherKey.publicPath, 'utf8')}`]);
    assert.equal(other.code, 1, other.stdout + other.stderr);
    assert.match(other.stdout, /FAIL {2}signature/);
  });

  it('verifies when named by a file:// URI, and passes every policy flag that holds', async () => {
    const model = await fileModel({ namespace: 'team-vision', commit: 'ec0b4f0b5c90ed0fa911a2972ccc452641b31563', finishedOn: '2026-01-10T08:00:00Z' });
    const run = await verifyJson(model.uri,
      '--builder-id', BUILDER_ID,
      '--source-repo', 'github.com/example/cifar10-training',
      '--source-ref', 'ec0b4f0b5c90ed0fa911a2972ccc452641b31563',
      '--namespace', 'team-vision',
      '--max-age', '30d',
      '--deny', 'pkg:pypi/torch@<2.6.0',
      '--deny', 'pkg:pypi/tensorflow');
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(run.failed, {});
    assert.equal(run.verdict.verified, true);
    assert.deepEqual(run.verdict.packages, ['pkg:pypi/torch@2.8.0', 'pkg:pypi/numpy@2.3.4']);
    assert.deepEqual(run.verdict.verifier, { name: 'slsa-ml', version: (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version });
  });

  it('falls back to the .intoto.jsonl envelope when there is no bundle', async () => {
    const model = await fileModel();
    await unlink(`${model.path}.sigstore.json`);
    const run = await verifyJson(model.path);
    assert.equal(run.code, 0, run.stdout);
    assert.equal(run.verdict.provenance, `${model.uri}.intoto.jsonl`);
  });

  it('reads the provenance that --provenance names', async () => {
    const model = await fileModel();
    const elsewhere = join(root, `moved-${randomBytes(3).toString('hex')}.sigstore.json`);
    await rename(`${model.path}.sigstore.json`, elsewhere);
    await unlink(`${model.path}.intoto.jsonl`);
    const run = await verifyJson(model.path, '--provenance', elsewhere);
    assert.equal(run.code, 0, run.stdout);
  });
});

describe('when a local directory model is as signed', () => {
  it('verifies by path, by path with a slash, and by file:// URI', async () => {
    const model = await directoryModel();
    for (const name of [model.path, `${model.path}/`, model.uri]) {
      const run = await verifyJson(name);
      assert.equal(run.code, 0, `${name}: ${run.stdout}`);
      assert.equal(run.verdict.provenance, `${model.uri.slice(0, -1)}.sigstore.json`);
    }
    const human = await cli(['verify', model.path, '--key', key.publicPath]);
    assert.match(human.stdout, /PASS {2}files +4 files as signed/);
  });
});

// The root digest chains only file digests, so a rename that keeps the files' order keeps it;
// the subject's file list (written by modelSubject for every directory model) catches it.
describe('when a directory model has a file renamed without changing the order of its files', () => {
  it('fails verification', async () => {
    const model = await directoryModel();
    await rename(join(model.path, 'assets', 'vocab.txt'), join(model.path, 'assets', 'vocab2.txt'));
    const run = await verifyJson(model.path);
    assert.equal(run.code, 1, `a renamed file went unnoticed: ${JSON.stringify(run.verdict.checks)}`);
  });
});

describe('when a file model or its provenance was tampered with', () => {
  it('one byte changed in the model: subject fails (exit 1)', async () => {
    const model = await fileModel();
    const bytes = await import('node:fs/promises').then((fs) => fs.readFile(model.path));
    bytes[1234] = (bytes[1234] ?? 0) ^ 0x01;
    await writeFile(model.path, bytes);
    const run = await verifyJson(model.path);
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { subject: 'SUBJECT_MISMATCH' });
  });

  it('provenance moved next to another model: subject fails', async () => {
    const signed = await fileModel();
    const other = join(await mkdtemp(join(root, 'other-')), 'pytorch_model.pth');
    await writeFile(other, randomBytes(50_000));
    await copyFile(`${signed.path}.sigstore.json`, `${other}.sigstore.json`);
    const run = await verifyJson(other);
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { subject: 'SUBJECT_MISMATCH' });
  });

  it('provenance copied next to a byte-identical copy of the model at another path: verifies with a WARN naming both paths, fails with --strict', async () => {
    const signed = await fileModel();
    const copy = join(await mkdtemp(join(root, 'copy-')), 'renamed_model.pth');
    await copyFile(signed.path, copy);
    await copyFile(`${signed.path}.sigstore.json`, `${copy}.sigstore.json`);
    const human = await cli(['verify', copy, '--key', key.publicPath]);
    assert.equal(human.code, 0, human.stdout);
    assert.match(human.stdout, /^ {2}WARN {2}subjectName +the subject with these bytes names .*pytorch_model\.pth, not .*renamed_model\.pth: this provenance was made for a model at another path/m);
    const json = await verifyJson(copy);
    const check = (json.verdict.checks as Array<{ name: string; ok: boolean; warning?: string }>).find((c) => c.name === 'subjectName');
    assert.equal(check?.ok, true);
    assert.match(check?.warning ?? '', /made for a model at another path/);
    const strict = await verifyJson(copy, '--strict');
    assert.equal(strict.code, 1);
    assert.deepEqual(strict.failed, { subjectName: 'SUBJECT_NAME_MISMATCH' });
    // The model where it was signed: no warning.
    const original = await cli(['verify', signed.path, '--key', key.publicPath, '--strict']);
    assert.equal(original.code, 0, original.stdout);
    assert.match(original.stdout, /^ {2}PASS {2}subjectName +a subject names pytorch_model\.pth$/m);
  });

  it('signed by another key: signature fails with WRONG_KEY and no statement details are shown', async () => {
    const model = await fileModel({}, otherKey.privatePem);
    const run = await verifyJson(model.path);
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { signature: 'WRONG_KEY' });
    assert.equal(run.verdict.taskRun, undefined, 'nothing from an unverified statement is reported');
    const human = await cli(['verify', model.path, '--key', key.publicPath]);
    assert.match(human.stdout, /FAIL {2}signature .*\[WRONG_KEY\]/);
    assert.doesNotMatch(human.stdout, /taskrun/);
    assert.match(human.stdout, /NOT VERIFIED: failed signature\n$/);
  });

  it('no provenance at all: exit 1, naming both places it looked', async () => {
    const dir = await mkdtemp(join(root, 'bare-'));
    const path = join(dir, 'model.pth');
    await writeFile(path, 'x');
    const run = await verifyJson(path);
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { provenance: 'PROVENANCE_NOT_FOUND' });
    assert.match(run.stdout, /model\.pth\.sigstore\.json and .*model\.pth\.intoto\.jsonl/);
  });
});

describe('when a directory model was changed after signing', () => {
  const cases: Array<[string, (path: string) => Promise<void>, Record<string, string>, RegExp]> = [
    ['a file added', (p) => writeFile(join(p, 'variables', 'extra.bin'), 'injected'), { subject: 'SUBJECT_MISMATCH', files: 'FILES_MISMATCH' }, /added variables\/extra\.bin/],
    ['a file removed', (p) => unlink(join(p, 'assets', 'vocab.txt')), { subject: 'SUBJECT_MISMATCH', files: 'FILES_MISMATCH' }, /removed assets\/vocab\.txt/],
    // The root digest chains file digests only: a rename that keeps the order keeps it too.
    ['a file renamed', (p) => rename(join(p, 'assets', 'vocab.txt'), join(p, 'assets', 'vocab2.txt')), { files: 'FILES_MISMATCH' }, /renamed assets\/vocab\.txt to assets\/vocab2\.txt/],
    ['one byte changed in a file', (p) => writeFile(join(p, 'assets', 'vocab.txt'), 'a\nb\nd\n'), { subject: 'SUBJECT_MISMATCH', files: 'FILES_MISMATCH' }, /changed assets\/vocab\.txt/],
  ];
  for (const [what, change, failed, named] of cases) {
    it(`${what}: fails (exit 1) and names the file`, async () => {
      const model = await directoryModel();
      await change(model.path);
      const run = await verifyJson(model.path);
      assert.equal(run.code, 1, run.stdout);
      assert.deepEqual(run.failed, failed);
      const human = await cli(['verify', model.path, '--key', key.publicPath]);
      assert.match(human.stdout, named);
    });
  }
});

describe('when the provenance does not satisfy the policy', () => {
  it('another builder: builderId fails', async () => {
    const model = await fileModel();
    const run = await verifyJson(model.path, '--builder-id', 'https://slsa-ml.dev/operators/prod');
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { builderId: 'BUILDER_MISMATCH' });
  });

  it('another source repository or commit: sourceRepo / sourceRef fail', async () => {
    const model = await fileModel({ sourceUrl: 'https://github.com/attacker/cifar10-training' });
    const run = await verifyJson(model.path, '--source-repo', 'https://github.com/example/cifar10-training', '--source-ref', '0'.repeat(40));
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { sourceRepo: 'SOURCE_MISMATCH', sourceRef: 'SOURCE_REF_MISMATCH' });
  });

  it('trained with a denied framework version: the deny check names the package', async () => {
    const model = await fileModel({ frameworks: ['pkg:pypi/torch@2.5.1', 'pkg:pypi/numpy@1.26.4'] });
    const run = await verifyJson(model.path, '--deny', 'pkg:pypi/torch@<2.6.0', '--deny', 'pkg:pypi/numpy@>=2.0.0');
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { 'deny pkg:pypi/torch@<2.6.0': 'DENIED_DEPENDENCY' });
    const human = await cli(['verify', model.path, '--key', key.publicPath, '--deny', 'pkg:pypi/torch@<2.6.0']);
    assert.match(human.stdout, /FAIL {2}deny pkg:pypi\/torch@<2\.6\.0 {2}trained with pkg:pypi\/torch@2\.5\.1 \[DENIED_DEPENDENCY\]/);
  });

  it('another namespace, or finished too long ago: namespace / maxAge fail', async () => {
    const model = await fileModel({ namespace: 'team-nlp', finishedOn: '2025-10-01T00:00:00Z' });
    const run = await verifyJson(model.path, '--namespace', 'team-vision', '--max-age', '30d');
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { namespace: 'NAMESPACE_MISMATCH', maxAge: 'TOO_OLD' });
  });
});
