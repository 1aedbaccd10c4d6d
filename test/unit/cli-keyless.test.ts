// Keyless end to end through the CLI: attest signs with a Fulcio certificate for an OIDC token
// and a Rekor entry (@sigstore/mock behind nock), and verify checks the signer's identity and
// issuer against a trusted root given as a file. Runs in-process so nock sees every request.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { cli, failedChecks, taskRunFor } from '../support/cli.ts';
import { identityToken, MOCK_ISSUER, startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';

const IDENTITY = 'system:serviceaccount:slsa-ml-system:slsa-ml-operator';
let root: string;
let mock: SigstoreMock;
let model: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-keyless-'));
  mock = await startSigstoreMock();
  await writeFile(join(root, 'token'), identityToken({ sub: IDENTITY }));
  await writeFile(join(root, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
  await mkdir(join(root, 'models'));
  model = join(root, 'models', 'model.pth');
  await writeFile(model, randomBytes(5000));
  await writeFile(join(root, 'tr.json'), JSON.stringify(taskRunFor({ modelUri: pathToFileURL(model).href })));
  const run = await cli(['attest', '--taskrun', 'tr.json', '--allowed-prefix', `${pathToFileURL(join(root, 'models')).href}/`,
    '--fulcio-url', mock.fulcioURL, '--rekor-url', mock.rekorURL, '--identity-token', 'token'], { cwd: root });
  assert.equal(run.code, 0, run.stderr);
});
after(async () => {
  stopSigstoreMock();
  await rm(root, { recursive: true, force: true });
});

const verify = (...flags: string[]) => cli(['verify', model, '--json', '--certificate-oidc-issuer', MOCK_ISSUER, '--trusted-root', 'trusted_root.json', ...flags], { cwd: root });

describe('when a model was attested keyless', () => {
  it('verifies with the signer identity, exactly or by regular expression, and reports the signer', async () => {
    const exact = await verify('--certificate-identity', IDENTITY);
    assert.equal(exact.code, 0, exact.stdout);
    assert.deepEqual((JSON.parse(exact.stdout) as { signer: unknown }).signer, { kind: 'certificate', subjectAlternativeName: IDENTITY, issuer: MOCK_ISSUER });
    const pattern = await verify('--certificate-identity-regexp', '^system:serviceaccount:slsa-ml-system:');
    assert.equal(pattern.code, 0, pattern.stdout);
  });

  it('fails (exit 1) for another identity or another issuer', async () => {
    const other = await verify('--certificate-identity', 'system:serviceaccount:tenant:trainer');
    assert.equal(other.code, 1);
    assert.deepEqual(failedChecks(other.stdout), { signature: 'IDENTITY_MISMATCH' });
    const issuer = await cli(['verify', model, '--json', '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', 'https://accounts.google.com', '--trusted-root', 'trusted_root.json'], { cwd: root });
    assert.equal(issuer.code, 1);
    assert.equal(Object.keys(failedChecks(issuer.stdout))[0], 'signature');
  });

  it('refuses the bare envelope for keyless trust: it carries no certificate', async () => {
    await unlink(`${model}.sigstore.json`);
    const run = await verify('--certificate-identity', IDENTITY);
    assert.equal(run.code, 1);
    assert.deepEqual(failedChecks(run.stdout), { signature: 'NO_CERTIFICATE' });
  });

  it('refuses a trusted root that is not one, as a usage error naming --trusted-root', async () => {
    await writeFile(join(root, 'bad-root.json'), '{"certificateAuthorities": 5}');
    const run = await cli(['verify', model, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', MOCK_ISSUER, '--trusted-root', 'bad-root.json'], { cwd: root });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^slsa-ml verify: --trusted-root bad-root\.json: trusted root is not usable/);
  });
});
