// The operator's Cloud Storage, as operator/wiring.ts builds it from configuration: each call is
// sent once (the operator retries whole reconciles with its own backoff, so a client retry would
// multiply it), and storage.gcs.userProject is billed on every request (Requester Pays buckets).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { OperatorConfig } from '../../operator/config/index.ts';
import { buildStorage } from '../../operator/wiring.ts';
import { StorageError } from '../../src/storage/index.ts';

let server: Server | undefined;
after(() => { server?.closeAllConnections(); server?.close(); });

describe('the operator\'s Cloud Storage', () => {
  it('sends a failed call once, with the configured billing project', async () => {
    const urls: string[] = [];
    server = createServer((req, res) => {
      urls.push(req.url ?? '');
      res.writeHead(urls.length <= 2 ? 503 : 200, { 'content-type': 'application/json' }).end('{"name":"m","size":"1"}');
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const apiEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = { storage: { gcs: { apiEndpoint, userProject: 'ml-billing' } }, deadlines: { requestSeconds: 2, readStallSeconds: 2, reconcileSeconds: 60 } } as unknown as OperatorConfig;
    await assert.rejects(buildStorage(config).stat('gs://bucket/m'), (e) => e instanceof StorageError && e.code === 'UNAVAILABLE' && e.retryable);
    assert.equal(urls.length, 1);
    assert.equal(new URL(urls[0] ?? '', 'http://x').searchParams.get('userProject'), 'ml-billing');
  });
});
