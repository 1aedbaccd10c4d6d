// slsa-ml keygen: a P-256 pair that signs (attest, operator) and verifies (verify, cosign), with
// the private key readable only by its owner, and never an overwrite.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { parsePrivateKey } from '../../src/signing/index.ts';
import { cli, hasStackTrace } from '../support/cli.ts';

const env = { COSIGN_PASSWORD: 'test password' };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slsa-ml-keygen-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('when keygen runs in an empty directory', () => {
  it('writes cosign.key (cosign\'s encrypted format, mode 0600) and cosign.pub (SPKI) of one P-256 key', async () => {
    const run = await cli(['keygen'], { cwd: dir, env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /private key: .*cosign\.key\npublic key: {2}.*cosign\.pub\n/);
    const privatePem = await readFile(join(dir, 'cosign.key'), 'utf8');
    const publicPem = await readFile(join(dir, 'cosign.pub'), 'utf8');
    assert.match(privatePem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.equal((await stat(join(dir, 'cosign.key'))).mode & 0o777, 0o600);
    const key = parsePrivateKey(privatePem, env.COSIGN_PASSWORD);
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(createPublicKey(key).export({ format: 'pem', type: 'spki' }), publicPem);
  });

  it('writes under --output-key-prefix', async () => {
    const run = await cli(['keygen', '--output-key-prefix', 'release'], { cwd: dir, env });
    assert.equal(run.code, 0);
    await stat(join(dir, 'release.key'));
    await stat(join(dir, 'release.pub'));
  });
});

describe('when a key file already exists', () => {
  it('refuses (exit 2), names the file, and leaves both files as they were', async () => {
    await writeFile(join(dir, 'existing.pub'), 'keep me');
    const run = await cli(['keygen', '--output-key-prefix', 'existing'], { cwd: dir, env });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /existing\.pub already exists; not overwriting it/);
    assert.equal(hasStackTrace(run.stderr), false);
    assert.equal(await readFile(join(dir, 'existing.pub'), 'utf8'), 'keep me');
    await assert.rejects(stat(join(dir, 'existing.key')), { code: 'ENOENT' }, 'no private key without its public half');
  });
});
