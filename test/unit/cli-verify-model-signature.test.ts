// slsa-ml verify checks a model's OpenSSF model-signing signature (MODEL.sig) next to its
// provenance, with the same trust and the same measurement, and shows both verdicts; query
// never reads a .sig.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { digestLocalPath } from '../../src/digest/index.ts';
import { manifestOf, serializeModelSigningStatement, signModelSigningPayload } from '../../src/model-signing/index.ts';
import { createSigner } from '../../src/signing/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { cli, signRun, storeSiblings, writeKeyPair, type KeyFiles } from '../support/cli.ts';

const storage = createStorage();
let root: string;
let key: KeyFiles;
let other: KeyFiles;
let counter = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-verify-oms-'));
  key = await writeKeyPair(root, 'cosign');
  other = await writeKeyPair(root, 'other');
});
after(() => rm(root, { recursive: true, force: true }));

interface Model {
  readonly path: string;
  readonly uri: string;
}

/** A directory model with provenance and, unless `signature` is null, a model signature by `signature`'s key. */
async function model(signature: KeyFiles | null = key): Promise<Model> {
  const path = join(root, `run-${counter++}`, 'saved_model');
  await mkdir(join(path, 'variables'), { recursive: true });
  await writeFile(join(path, 'saved_model.pb'), randomBytes(500));
  await writeFile(join(path, 'variables', 'variables.index'), randomBytes(50));
  const uri = `${pathToFileURL(path).href}/`;
  const measured = await digestLocalPath(path);
  await storeSiblings(storage, uri, await signRun({ modelUri: uri }, measured, { privatePem: key.privatePem, schemes: ['file'] }));
  if (signature) {
    const sig = await signModelSigningPayload(serializeModelSigningStatement(manifestOf('saved_model', measured)), await createSigner({ kind: 'key', keyPem: signature.privatePem }));
    await writeFile(`${path}.sig`, sig);
  }
  return { path, uri };
}

interface Verdict {
  verified: boolean;
  checks: Array<{ name: string; ok: boolean }>;
  modelSignature: null | { signature: string | null; verified: boolean; checks: Array<{ name: string; ok: boolean; code?: string }> };
}

async function verify(path: string, ...flags: string[]): Promise<{ code: number; verdict: Verdict }> {
  const run = await cli(['verify', path, '--key', key.publicPath, '--json', ...flags]);
  return { code: run.code, verdict: JSON.parse(run.stdout) as Verdict };
}

const failed = (checks: ReadonlyArray<{ name: string; ok: boolean; code?: string }>): string[] => checks.filter((c) => !c.ok).map((c) => `${c.name}:${c.code ?? ''}`);

describe('when a model has a model signature next to its provenance', () => {
  it('verifies both and shows both, for people and as JSON', async () => {
    const m = await model();
    const { code, verdict } = await verify(m.path);
    assert.equal(code, 0);
    assert.equal(verdict.verified, true);
    assert.equal(verdict.modelSignature?.signature, `${m.uri.replace(/\/$/, '')}.sig`);
    assert.equal(verdict.modelSignature?.verified, true);
    const human = await cli(['verify', m.path, '--key', key.publicPath]);
    assert.match(human.stdout, /model signature +file:.*saved_model\.sig +\[OpenSSF model-signing\]\n( {2}PASS .*\n)+ {2}signer +key SHA256:.*\nVERIFIED\n$/);
  });

  it('fails when the model changed, and both verdicts say so', async () => {
    const m = await model();
    await writeFile(join(m.path, 'added.txt'), 'x');
    const { code, verdict } = await verify(m.path);
    assert.equal(code, 1);
    assert.deepEqual(failed(verdict.modelSignature?.checks ?? []), ['files:MODEL_MISMATCH']);
    assert.ok(verdict.checks.some((c) => c.name === 'subject' && !c.ok));
  });

  it('fails when the model signature is by another key than the one trusted, and says so (WRONG_KEY), though the provenance verifies', async () => {
    const m = await model(other);
    const { code, verdict } = await verify(m.path);
    assert.equal(code, 1);
    assert.equal(verdict.checks.every((c) => c.ok), true);
    // model_signing names its key by the bundle's hint (the keyid stays empty): that hint names the other key.
    assert.deepEqual(failed(verdict.modelSignature?.checks ?? []), ['signature:WRONG_KEY']);
    const human = await cli(['verify', m.path, '--key', key.publicPath]);
    assert.match(human.stdout, /NOT VERIFIED: failed model signature signature\n$/);
  });

  it('reads the signature --model-signature names', async () => {
    const m = await model();
    const elsewhere = join(root, 'elsewhere.sig');
    await writeFile(elsewhere, await readFile(`${m.path}.sig`));
    await rm(`${m.path}.sig`);
    const { code, verdict } = await verify(m.path, '--model-signature', elsewhere, '--require-model-signature');
    assert.equal(code, 0);
    assert.equal(verdict.modelSignature?.signature, pathToFileURL(elsewhere).href);
  });
});

describe('when a model has no model signature', () => {
  it('verifies on its provenance alone, and says none was found', async () => {
    const m = await model(null);
    const { code, verdict } = await verify(m.path);
    assert.equal(code, 0);
    assert.equal(verdict.modelSignature, null);
    assert.match((await cli(['verify', m.path, '--key', key.publicPath])).stdout, /model signature +\(none: no file:.*saved_model\.sig\)/);
  });

  it('fails with --require-model-signature', async () => {
    const m = await model(null);
    const { code, verdict } = await verify(m.path, '--require-model-signature');
    assert.equal(code, 1);
    assert.equal(verdict.verified, false);
    assert.deepEqual(failed(verdict.modelSignature?.checks ?? []), ['modelSignature:MODEL_SIGNATURE_NOT_FOUND']);
  });
});

describe('query', () => {
  it('ignores model signatures: neither models nor unverifiable provenance', async () => {
    const dir = join(root, `query-${counter++}`);
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'model.pth');
    await writeFile(path, randomBytes(100));
    await writeFile(`${path}.sig`, 'not provenance');
    const run = await cli(['query', '--under', `${pathToFileURL(dir).href}/`, '--key', key.publicPath, '--dependency', 'pkg:pypi/torch', '--json']);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /NO_PROVENANCE|no provenance/i);
  });
});
