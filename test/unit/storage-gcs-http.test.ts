// Our Cloud Storage JSON API client against a local HTTP server that answers as GCS does, and
// as a broken network does: statuses become StorageError codes (retryable or not), a server that
// never answers costs one request deadline, a download that stops sending bytes fails, and an
// aborted download never throws into the process.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { GcsStorage, StorageError, createGcsClient } from '../../src/storage/index.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
after(() => { for (const s of servers) s.closeAllConnections(); return Promise.all(servers.map((s) => new Promise((r) => s.close(r)))); });

async function gcs(handler: Handler, options: { requestMs?: number; readStallMs?: number } = {}): Promise<GcsStorage> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return new GcsStorage(createGcsClient({ apiEndpoint: `http://127.0.0.1:${port}` }, options.requestMs ?? 2000), { readStallMs: options.readStallMs ?? 2000 });
}

const code = (c: string, retryable: boolean) => (e: unknown) => e instanceof StorageError && e.code === c && e.retryable === retryable;
const status = (n: number, body = '{"error":{"message":"from the server"}}'): Handler => (_req, res) => { res.writeHead(n, { 'content-type': 'application/json' }).end(body); };

describe('the Cloud Storage JSON API client', () => {
  it('maps statuses to codes and says which are worth retrying', async () => {
    assert.equal(await (await gcs(status(404))).stat('gs://bucket/m.pth'), undefined, '404 on stat: no such object');
    await assert.rejects((await gcs(status(412))).createOnly('gs://bucket/m', Buffer.from('x'), 'text/plain'), code('ALREADY_EXISTS', false));
    await assert.rejects((await gcs(status(403))).stat('gs://bucket/m'), code('PERMISSION_DENIED', false));
    await assert.rejects((await gcs(status(503))).stat('gs://bucket/m'), (e) => code('UNAVAILABLE', true)(e) && /HTTP 503: from the server/.test((e as Error).message));
    await assert.rejects((await gcs(status(429, 'slow down'))).stat('gs://bucket/m'), (e) => code('UNAVAILABLE', true)(e) && /slow down/.test((e as Error).message));
    await assert.rejects((await gcs(status(400))).stat('gs://bucket/m'), code('HTTP_400', false));
  });

  it('sends the create-only precondition and a multipart body with name, content type and the MD5 of the bytes', async () => {
    let seen = { url: '', type: '', body: '' };
    const storage = await gcs((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => { seen = { url: req.url ?? '', type: req.headers['content-type'] ?? '', body }; status(200, '{"name":"m/x.json"}')(req, res); });
    });
    await storage.createOnly('gs://bucket/m/x.json', Buffer.from('{"a":1}'), 'application/json');
    assert.equal(seen.url, '/upload/storage/v1/b/bucket/o?uploadType=multipart&ifGenerationMatch=0');
    assert.match(seen.type, /^multipart\/related; boundary=/);
    const md5 = createHash('md5').update('{"a":1}').digest('base64');
    assert.ok(seen.body.includes(`{"name":"m/x.json","contentType":"application/json","md5Hash":"${md5}"}`), seen.body);
    assert.match(seen.body, /\{"a":1\}/);
  });

  it('gives up on a server that never answers after one request deadline, as a retryable fault', async () => {
    const storage = await gcs(() => undefined, { requestMs: 300 });
    const started = Date.now();
    await assert.rejects(storage.stat('gs://bucket/m'), (e) => code('UNAVAILABLE', true)(e) && /no response within/.test((e as Error).message));
    assert.ok(Date.now() - started < 2000);
  });

  it('fails a download that stops sending bytes, and one reset mid-body, without crashing', async () => {
    const stalls = await gcs((_req, res) => { res.writeHead(200); res.write(Buffer.alloc(1000)); }, { readStallMs: 300 });
    await assert.rejects(stalls.read('gs://bucket/m', 10_000), (e) => code('UNAVAILABLE', true)(e) && /no response within/.test((e as Error).message));
    const stream = await stalls.openRead('gs://bucket/m');
    await assert.rejects(async () => { for await (const chunk of stream) void chunk; }, (e) => code('UNAVAILABLE', true)(e) && /no data for/.test((e as Error).message));
    const resets = await gcs((req, res) => {
      if (req.url?.includes('alt=media')) { res.writeHead(200); res.write(Buffer.alloc(1000)); setTimeout(() => req.socket.resetAndDestroy(), 20); }
      else status(200, '{"name":"m","size":"5000","generation":"7"}')(req, res);
    });
    await assert.rejects(resets.read('gs://bucket/m', 10_000), (e) => code('UNAVAILABLE', true)(e));
  });

  it('sends a read again on a new connection when the kept-alive one was closed by the server, but never a write', async () => {
    // The server answers the first request on each connection, then resets the connection when
    // the next one arrives on it: what a request meets on a connection the server dropped while idle.
    const served = new WeakMap<object, number>();
    let connections = 0;
    const storage = await gcs((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n === 1) connections++;
      if (n > 1) { req.socket.resetAndDestroy(); return; }
      status(200, req.method === 'POST' ? '{"name":"m"}' : '{"name":"m","size":"1","generation":"1"}')(req, res);
    });
    assert.equal((await storage.stat('gs://bucket/m'))?.size, 1);
    assert.equal((await storage.stat('gs://bucket/m'))?.size, 1, 'the second read, on the reset connection, is sent again');
    assert.equal(connections, 2);
    await assert.rejects(storage.createOnly('gs://bucket/n', Buffer.from('x'), 'text/plain'), code('UNAVAILABLE', true));
    assert.equal(connections, 2, 'the write is not sent again');
  });

  it('lets a caller close a download early: the request is aborted and nothing throws later', async () => {
    let aborted = false;
    const storage = await gcs((req, res) => { res.writeHead(200); res.write(Buffer.alloc(64 * 1024)); req.on('close', () => { aborted = true; }); });
    const stream = await storage.openRead('gs://bucket/m');
    await new Promise((r) => stream.once('data', r));
    stream.destroy();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(aborted, true);
  });

  it('answers several names next to each other with one listing of the range they span', async () => {
    const urls: string[] = [];
    const storage = await gcs((req, res) => {
      urls.push(req.url ?? '');
      status(200, JSON.stringify({ items: [
        { name: 'm/model.pth.bak', size: '1', generation: '1', timeCreated: '2026-01-01T00:00:00Z' },
        { name: 'm/model.pth.sig', size: '5', generation: '7', timeCreated: '2026-01-01T00:00:00Z' },
      ] }))(req, res);
    });
    const found = await storage.statAll(['gs://bucket/m/model.pth.sigstore.json', 'gs://bucket/m/model.pth.intoto.jsonl', 'gs://bucket/m/model.pth.sig']);
    assert.deepEqual(found.map((o) => o?.generation), [undefined, undefined, '7']);
    assert.equal(urls.length, 1);
    const query = new URL(urls[0] ?? '', 'http://x').searchParams;
    assert.equal(query.get('prefix'), 'm/model.pth.');
    assert.equal(query.get('startOffset'), 'm/model.pth.intoto.jsonl');
    assert.equal(query.get('endOffset'), 'm/model.pth.sigstore.json ');
  });

  it('returns the checksum the server computed for what it created', async () => {
    const storage = await gcs(status(200, '{"name":"m/x.json","size":"7","md5Hash":"u2y1xo30ZSlByvZSo2by2A=="}'));
    assert.deepEqual(await storage.createOnly('gs://bucket/m/x.json', Buffer.from('{"a":1}'), 'application/json'), { md5: 'u2y1xo30ZSlByvZSo2by2A==', size: 7 });
  });
});

