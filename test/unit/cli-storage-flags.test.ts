// The storage a command builds from its flags and environment: gs:// calls retried (a command has
// no backoff of its own) unless $SLSA_ML_GCS_RETRY_SECONDS is 0, and the billing project from
// --gcs-user-project or $SLSA_ML_GCS_USER_PROJECT sent with every request.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../src/cli/errors.ts';
import { parseFlags } from '../../src/cli/flags.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { STORAGE_FLAGS, storageFromFlags } from '../../src/cli/storage-flags.ts';
import { StorageError } from '../../src/storage/index.ts';

const servers: Server[] = [];
after(() => { for (const s of servers) s.closeAllConnections(); return Promise.all(servers.map((s) => new Promise((r) => s.close(r)))); });

/** A GCS stand-in answering 503 to the first `failures` requests; records every URL. */
async function gcs(failures: number): Promise<{ endpoint: string; urls: string[] }> {
  const urls: string[] = [];
  const server = createServer((req, res) => {
    urls.push(req.url ?? '');
    if (urls.length <= failures) res.writeHead(503).end('{"error":{"message":"backend unavailable"}}');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"m","size":"1","generation":"3"}');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, urls };
}

function io(env: Record<string, string>): CliIo {
  return { stdout: { write: () => true }, stderr: { write: () => true }, env, cwd: process.cwd(), now: () => new Date() };
}

function storage(args: string[], env: Record<string, string> = {}): ReturnType<typeof storageFromFlags> {
  return storageFromFlags(parseFlags(args, STORAGE_FLAGS), io(env));
}

describe('a command\'s Cloud Storage', () => {
  it('reads through transient 503s', async () => {
    const server = await gcs(2);
    assert.equal((await storage(['--gcs-endpoint', server.endpoint]).stat('gs://bucket/m'))?.generation, '3');
    assert.equal(server.urls.length, 3);
  });

  it('tries once with $SLSA_ML_GCS_RETRY_SECONDS=0, and refuses a value that is no number of seconds, naming the variable', async () => {
    const server = await gcs(2);
    await assert.rejects(storage(['--gcs-endpoint', server.endpoint], { SLSA_ML_GCS_RETRY_SECONDS: '0' }).stat('gs://bucket/m'), (e) => e instanceof StorageError && e.code === 'UNAVAILABLE');
    assert.equal(server.urls.length, 1);
    assert.throws(() => storage([], { SLSA_ML_GCS_RETRY_SECONDS: '30s' }), (e) => e instanceof UsageError && /^\$SLSA_ML_GCS_RETRY_SECONDS "30s": must be a whole number of seconds/.test(e.message));
  });

  it('bills the project --gcs-user-project names (else $SLSA_ML_GCS_USER_PROJECT), and refuses one that is no project ID', async () => {
    const server = await gcs(0);
    await storage(['--gcs-endpoint', server.endpoint, '--gcs-user-project', 'flag-proj'], { SLSA_ML_GCS_USER_PROJECT: 'env-proj' }).stat('gs://bucket/m');
    await storage([], { SLSA_ML_GCS_ENDPOINT: server.endpoint, SLSA_ML_GCS_USER_PROJECT: 'env-proj' }).stat('gs://bucket/m');
    await storage([], { SLSA_ML_GCS_ENDPOINT: server.endpoint, GOOGLE_CLOUD_PROJECT: 'ambient-proj' }).stat('gs://bucket/m');
    assert.deepEqual(server.urls.map((u) => new URL(u, 'http://x').searchParams.get('userProject')), ['flag-proj', 'env-proj', null]);
    assert.throws(() => storage(['--gcs-user-project', 'My Project']), (e) => e instanceof UsageError && /^--gcs-user-project "My Project": not a Google Cloud project ID/.test(e.message));
  });
});
