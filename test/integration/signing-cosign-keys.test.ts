// Keys move between cosign, Tekton Chains and slsa-ml in both directions, judged by cosign v2.6
// itself: cosign signs with a key slsa-ml keygen wrote, slsa-ml verifies what cosign signed, and
// slsa-ml attest signs with a key cosign generated (password from COSIGN_PASSWORD or a Chains
// Secret's cosign.password), which cosign then verifies. sigstore-python reads our key bundles.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { digestLocalPath } from '../../src/digest/index.ts';
import { cli, taskRunFor } from '../support/cli.ts';
import { cosign, cosignVerifyBlobAttestation, sigstorePythonParseBundle } from '../support/signing-verifiers.ts';

const PASSWORD = 'a cosign password';
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slsa-ml-cosign-keys-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function model(name: string): Promise<{ path: string; uri: string; sha256: string }> {
  const path = join(dir, 'models', name, 'model.pth');
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, randomBytes(5000));
  return { path, uri: pathToFileURL(path).href, sha256: (await digestLocalPath(path)).sha256 };
}

async function attestWith(name: string, ...keyFlags: string[]): Promise<{ path: string; code: number; stderr: string }> {
  const m = await model(name);
  const taskRun = join(dir, `${name}.taskrun.json`);
  await writeFile(taskRun, JSON.stringify(taskRunFor({ modelUri: m.uri, reportedSha256: m.sha256 })));
  const run = await cli(['attest', '--taskrun', taskRun, '--allowed-prefix', `${pathToFileURL(join(dir, 'models')).href}/`, ...keyFlags], { env: { COSIGN_PASSWORD: PASSWORD }, cwd: dir });
  return { path: m.path, code: run.code, stderr: run.stderr };
}

describe('when cosign uses a key slsa-ml keygen wrote', () => {
  it('signs an attestation with it, and slsa-ml verify accepts what cosign signed', async () => {
    const keygen = await cli(['keygen', '--output-key-prefix', join(dir, 'ours')], { env: { COSIGN_PASSWORD: PASSWORD } });
    assert.equal(keygen.code, 0, keygen.stderr);
    const m = await model('cosign-signed');
    const predicate = join(dir, 'predicate.json');
    await writeFile(predicate, JSON.stringify({ buildDefinition: { buildType: 'https://example.com/manual', externalParameters: {} }, runDetails: { builder: { id: 'https://example.com/b' } } }));
    const bundle = `${m.path}.sigstore.json`;
    const signed = await cosign(['attest-blob', '--key', join(dir, 'ours.key'), '--type', 'slsaprovenance1', '--predicate', predicate,
      '--tlog-upload=false', '--yes', '--new-bundle-format', '--bundle', bundle, m.path], { COSIGN_PASSWORD: PASSWORD });
    assert.ok(signed.ok, signed.output);
    const verify = await cli(['verify', m.path, '--key', join(dir, 'ours.pub'), '--builder-id', 'https://example.com/b']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});

describe('when slsa-ml attest signs with a key cosign generate-key-pair wrote', () => {
  before(async () => {
    const generated = await cosign(['generate-key-pair', '--output-key-prefix', join(dir, 'theirs')], { COSIGN_PASSWORD: PASSWORD });
    assert.ok(generated.ok, generated.output);
  });

  it('reads the password from COSIGN_PASSWORD, and cosign verifies the provenance', async () => {
    const attested = await attestWith('from-env', '--key', join(dir, 'theirs.key'));
    assert.equal(attested.code, 0, attested.stderr);
    for (const input of [{ bundle: `${attested.path}.sigstore.json` }, { envelope: `${attested.path}.intoto.jsonl` }]) {
      const verdict = await cosignVerifyBlobAttestation(join(dir, 'theirs.pub'), input, { file: attested.path });
      assert.ok(verdict.ok, verdict.output);
    }
  });

  it('reads a Tekton Chains signing-secrets directory (cosign.key + cosign.password)', async () => {
    const secret = join(dir, 'signing-secrets');
    await mkdir(secret);
    await cp(join(dir, 'theirs.key'), join(secret, 'cosign.key'));
    await cp(join(dir, 'theirs.pub'), join(secret, 'cosign.pub'));
    await writeFile(join(secret, 'cosign.password'), PASSWORD);
    const m = await model('from-secret');
    const taskRun = join(dir, 'secret.taskrun.json');
    await writeFile(taskRun, JSON.stringify(taskRunFor({ modelUri: m.uri, reportedSha256: m.sha256 })));
    const run = await cli(['attest', '--taskrun', taskRun, '--allowed-prefix', `${pathToFileURL(join(dir, 'models')).href}/`, '--key', secret], { env: {} });
    assert.equal(run.code, 0, run.stderr);
    const verdict = await cosignVerifyBlobAttestation(join(secret, 'cosign.pub'), { bundle: `${m.path}.sigstore.json` }, { file: m.path });
    assert.ok(verdict.ok, verdict.output);
  });

  it('refuses, as a usage error that names the key, without the password', async () => {
    const m = await model('no-password');
    const taskRun = join(dir, 'nopw.taskrun.json');
    await writeFile(taskRun, JSON.stringify(taskRunFor({ modelUri: m.uri, reportedSha256: m.sha256 })));
    const run = await cli(['attest', '--taskrun', taskRun, '--allowed-prefix', `${pathToFileURL(join(dir, 'models')).href}/`, '--key', join(dir, 'theirs.key')], { env: {} });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--key: the signing key is encrypted: set COSIGN_PASSWORD/);
  });
});

describe('when sigstore-python reads a key-signed bundle of ours', () => {
  it('parses it: verificationMaterial.tlogEntries is present (empty)', async () => {
    const attested = await attestWith('for-python', '--key', join(dir, 'theirs.key'));
    assert.equal(attested.code, 0, attested.stderr);
    const parsed = await sigstorePythonParseBundle(`${attested.path}.sigstore.json`);
    assert.ok(parsed.ok, parsed.output);
    assert.match(parsed.output, /application\/vnd\.dev\.sigstore\.bundle\.v0\.3\+json 0/);
  });
});
