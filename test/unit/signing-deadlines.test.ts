// Every request a signer makes has a deadline (requestTimeoutMs): an endpoint that accepts
// connections and never answers, or refuses them, fails in about that long with one short reason,
// not a minute later with a multi-kilobyte chain of retried errors.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { createSigner, signStatement, type SigningError } from '../../src/signing/index.ts';
import { cli } from '../support/cli.ts';
import { identityToken } from '../support/signing-sigstore-mock.ts';

const KEY_NAME = 'gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1';
let silent: Server;
let silentUrl: string;
let refusedUrl: string;
const sockets: Socket[] = [];

before(async () => {
  silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  refusedUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
  await new Promise((resolve) => closed.close(resolve));
});
after(() => {
  for (const s of sockets) s.destroy();
  silent.close();
});

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; error: SigningError }> {
  const start = Date.now();
  try {
    await work();
  } catch (error) {
    return { ms: Date.now() - start, error: error as SigningError };
  }
  throw new Error('expected a failure');
}

function assertShort(error: SigningError): void {
  assert.ok(error.message.length < 300, `${error.message.length} characters: ${error.message}`);
  assert.doesNotMatch(error.message, /Previous errors|\n/);
}

describe('when Cloud KMS does not answer', () => {
  it('fails after the request deadline with a short, retryable KMS_UNAVAILABLE', async () => {
    const { ms, error } = await timed(() => createSigner({ kind: 'kms', keyName: KEY_NAME, apiEndpoint: silentUrl, requestTimeoutMs: 400 }));
    assert.equal(error.code, 'KMS_UNAVAILABLE');
    assert.equal(error.retryable, true);
    assert.ok(ms < 3000, `took ${ms} ms`);
    assert.match(error.message, /did not respond within \d+ milliseconds/);
    assertShort(error);
  });

  it('fails at once when the endpoint refuses connections, naming the reason', async () => {
    const { ms, error } = await timed(() => createSigner({ kind: 'kms', keyName: KEY_NAME, apiEndpoint: refusedUrl }));
    assert.equal(error.code, 'KMS_UNAVAILABLE');
    assert.ok(ms < 3000, `took ${ms} ms`);
    assert.match(error.message, /^Cloud KMS call failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it('prints one short line from verify --kms, exit 2', async () => {
    const run = await cli(['verify', 'model.pth', '--kms', KEY_NAME, '--kms-endpoint', refusedUrl], { cwd: import.meta.dirname });
    assert.equal(run.code, 2);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.ok(run.stderr.length < 300, run.stderr);
    assert.match(run.stderr, /ECONNREFUSED/);
  });
});

describe('when keyless signing meets an endpoint that does not answer', () => {
  const payload = Buffer.from('{}');

  it('gives up on an identity-token source after the deadline, even one that ignores its signal', async () => {
    const signer = await createSigner({ kind: 'sigstore', fulcioURL: silentUrl, rekorURL: silentUrl, identityToken: () => new Promise<string>(() => undefined), requestTimeoutMs: 300 });
    const { ms, error } = await timed(() => signStatement(payload, signer));
    assert.equal(error.code, 'IDENTITY_TOKEN_UNAVAILABLE');
    assert.match(error.message, /did not answer within 300 ms/);
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  it('gives up on Fulcio after the per-request deadline and its two quick retries, saying why', async () => {
    const signer = await createSigner({ kind: 'sigstore', fulcioURL: silentUrl, rekorURL: silentUrl, identityToken: () => Promise.resolve(identityToken({ sub: 'trainer' })), requestTimeoutMs: 300 });
    const { ms, error } = await timed(() => signStatement(payload, signer));
    assert.equal(error.code, 'CA_CREATE_SIGNING_CERTIFICATE_ERROR');
    assert.ok(ms < 6000, `took ${ms} ms`);
    assertShort(error);
  });

  it('refuses a deadline that is not a positive number of milliseconds', async () => {
    await assert.rejects(createSigner({ kind: 'kms', keyName: KEY_NAME, requestTimeoutMs: 0 }), { code: 'SIGNER_CONFIG_INVALID' });
  });
});
