// Our Cloud Storage JSON API client against a local HTTP server that answers as GCS does, and
// as a broken network does: statuses become StorageError codes (retryable or not), a server that
// never answers costs one request deadline, a download that stops sending bytes fails, and an
// aborted download never throws into the process. With a retry policy (the CLI's and the action's),
// idempotent calls survive 429/5xx and resets within a budget; without one (the operator's), a
// fault is reported at once. A billing project travels as userProject on every request.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { GcsStorage, StorageError, createGcsClient } from '../../src/storage/index.ts';
import type { RetryPolicy } from '../../src/storage/types.ts';
import { crc32cBase64 } from '../../src/storage/crc32c.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
after(() => { for (const s of servers) s.closeAllConnections(); return Promise.all(servers.map((s) => new Promise((r) => s.close(r)))); });

interface ClientOptions { requestMs?: number; readStallMs?: number; retry?: RetryPolicy; userProject?: string }

async function gcs(handler: Handler, options: ClientOptions = {}): Promise<GcsStorage> {
  return new GcsStorage(createGcsClient({ apiEndpoint: await serve(handler), ...(options.userProject ? { userProject: options.userProject } : {}) }, options.requestMs ?? 2000, options.retry), { readStallMs: options.readStallMs ?? 2000 });
}

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    assert.ok(seen.body.includes(`{"name":"m/x.json","contentType":"application/json","md5Hash":"${md5}","crc32c":"${crc32cBase64(Buffer.from('{"a":1}'))}"}`), seen.body);
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


/** Answers the first `failures` requests with `fail`, the rest with `then`; counts them all. */
function flaky(failures: number, fail: Handler, then: Handler): Handler & { urls: string[]; times: number[] } {
  const urls: string[] = [];
  const times: number[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    urls.push(`${req.method ?? ''} ${req.url ?? ''}`);
    times.push(Date.now());
    (urls.length <= failures ? fail : then)(req, res);
  };
  return Object.assign(handler, { urls, times });
}

const RETRY: RetryPolicy = { budgetMs: 5000, initialDelayMs: 20, maxDelayMs: 200 };
const META = '{"name":"m","size":"5","generation":"7"}';
const reset: Handler = (req) => { req.socket.resetAndDestroy(); };
const media: Handler = (req, res) => (req.url?.includes('alt=media') ? res.writeHead(200).end('hello') : status(200, META)(req, res));

describe('with a retry policy (the CLI and the action)', () => {
  it('reads through two 503s, and without a policy (the operator) reports the first one', async () => {
    const server = flaky(2, status(503), status(200, META));
    assert.equal((await (await gcs(server, { retry: RETRY })).stat('gs://bucket/m'))?.generation, '7');
    assert.equal(server.urls.length, 3);
    const once = flaky(2, status(503), status(200, META));
    await assert.rejects((await gcs(once)).stat('gs://bucket/m'), code('UNAVAILABLE', true));
    assert.equal(once.urls.length, 1, 'the operator retries whole reconciles itself: one attempt here');
  });

  it('waits as long as a 429 Retry-After says, capped', async () => {
    const server = flaky(1, (_req, res) => { res.writeHead(429, { 'retry-after': '1' }).end('slow down'); }, status(200, META));
    await (await gcs(server, { retry: { budgetMs: 5000, initialDelayMs: 1, maxDelayMs: 2000 } })).stat('gs://bucket/m');
    const waited = (server.times[1] ?? 0) - (server.times[0] ?? 0);
    assert.ok(waited >= 950, `waited ${waited} ms for Retry-After: 1`);
    const capped = flaky(1, (_req, res) => { res.writeHead(503, { 'retry-after': '3600' }).end(); }, status(200, META));
    await (await gcs(capped, { retry: { budgetMs: 5000, initialDelayMs: 1, maxDelayMs: 100 } })).stat('gs://bucket/m');
    assert.ok((capped.times[1] ?? 0) - (capped.times[0] ?? 0) < 1000, 'an hour-long Retry-After is capped');
  });

  it('sends a listing and a download again after a reset connection, before any byte reached the caller', async () => {
    const list = flaky(1, reset, status(200, '{"items":[{"name":"p/a","size":"1"}]}'));
    const listed: string[] = [];
    for await (const o of (await gcs(list, { retry: RETRY })).list('gs://bucket/p/')) listed.push(o.uri);
    assert.deepEqual(listed, ['gs://bucket/p/a']);
    const download = flaky(1, reset, media);
    const stream = await (await gcs(download, { retry: RETRY })).openRead('gs://bucket/m');
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'hello');
    const after503 = flaky(2, (req, res) => (req.url?.includes('alt=media') ? status(503)(req, res) : status(200, META)(req, res)), media);
    assert.equal((await (await gcs(after503, { retry: RETRY })).read('gs://bucket/m', 100)).toString(), 'hello');
  });

  it('never retries what another attempt cannot change (404, 403, 400)', async () => {
    for (const [n, c] of [[403, 'PERMISSION_DENIED'], [400, 'HTTP_400']] as const) {
      const server = flaky(9, status(n), status(200, META));
      await assert.rejects((await gcs(server, { retry: RETRY })).stat('gs://bucket/m'), code(c, false));
      assert.equal(server.urls.length, 1, `HTTP ${n}`);
    }
    const missing = flaky(9, status(404), status(200, META));
    assert.equal(await (await gcs(missing, { retry: RETRY })).stat('gs://bucket/m'), undefined);
    assert.equal(missing.urls.length, 1);
  });

  it('stops at the budget with the last fault, retryable, saying how often it tried; each attempt keeps its deadline', async () => {
    const down = flaky(Infinity, status(503), status(200));
    const started = Date.now();
    await assert.rejects((await gcs(down, { retry: { budgetMs: 600, initialDelayMs: 50, maxDelayMs: 100 } })).stat('gs://bucket/m'),
      (e) => code('UNAVAILABLE', true)(e) && /HTTP 503.*gave up after \d+ attempts in/.test((e as Error).message));
    assert.ok(down.urls.length >= 3, `${down.urls.length} attempts`);
    assert.ok(Date.now() - started < 1500);
    const silent = flaky(Infinity, () => undefined, status(200));
    const t0 = Date.now();
    await assert.rejects((await gcs(silent, { requestMs: 200, retry: { budgetMs: 500, initialDelayMs: 10, maxDelayMs: 20 } })).stat('gs://bucket/m'), (e) => /no response within/.test((e as Error).message));
    assert.ok(silent.urls.length >= 2, `${silent.urls.length} attempts`);
    assert.ok(Date.now() - t0 < 500 + 200 + 300, 'no attempt starts past the budget, and each ends at its deadline');
  });

  it('cuts an attempt\'s deadline to what is left of the budget: the whole call ends within the budget', async () => {
    const silent = flaky(Infinity, () => undefined, status(200));
    const t0 = Date.now();
    await assert.rejects((await gcs(silent, { requestMs: 5000, retry: { budgetMs: 400, initialDelayMs: 10, maxDelayMs: 20 } })).stat('gs://bucket/m'), (e) => code('UNAVAILABLE', true)(e) && /no response within/.test((e as Error).message));
    assert.ok(Date.now() - t0 < 1500, `ended after ${Date.now() - t0} ms, not at the 5 s request deadline`);
  });

  it('starts no attempt with too little of the budget left to be answered: the caller hears the real fault', async () => {
    const slow503: Handler = (req, res) => { setTimeout(() => status(503)(req, res), 350); };
    const server = flaky(Infinity, slow503, status(200, META));
    await assert.rejects((await gcs(server, { requestMs: 5000, retry: { budgetMs: 400, initialDelayMs: 1, maxDelayMs: 2 } })).stat('gs://bucket/m'),
      (e) => code('UNAVAILABLE', true)(e) && /HTTP 503/.test((e as Error).message));
    assert.equal(server.urls.length, 1, 'no doomed second attempt with the budget\'s last 50 ms');
  });
});

describe('an error answer with an endless body', () => {
  it('is reported from its first KiB, without reading the rest (metadata and download)', async () => {
    const endless: Handler = (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => { while (!res.destroyed && res.write(chunk)); if (!res.destroyed) res.once('drain', pump); };
      pump();
    };
    const storage = await gcs(endless, { requestMs: 3000, readStallMs: 3000 });
    const t0 = Date.now();
    await assert.rejects(storage.stat('gs://bucket/m'), (e) => code('UNAVAILABLE', true)(e) && /HTTP 503: x{200}$/.test((e as Error).message));
    await assert.rejects(async () => { for await (const c of await storage.openRead('gs://bucket/m')) void c; }, (e) => code('UNAVAILABLE', true)(e) && /HTTP 503: x{200}$/.test((e as Error).message));
    assert.ok(Date.now() - t0 < 2000, `ended after ${Date.now() - t0} ms, not at a deadline`);
  });
});

describe('a create-only write sent again', () => {
  const data = Buffer.from('{"provenance":1}');
  const md5 = createHash('md5').update(data).digest('base64');

  const ours = { md5Hash: md5, crc32c: crc32cBase64(data), size: String(data.length) };

  /** Stores the first upload, then loses its answer; later uploads meet the precondition; `stored` is what a look at the name finds. */
  function storesThenResets(stored_: Record<string, string>): Handler & { urls: string[] } {
    let stored = false;
    const urls: string[] = [];
    const handler: Handler = (req, res) => {
      urls.push(`${req.method ?? ''} ${req.url ?? ''}`);
      if (req.method === 'POST') {
        req.resume();
        req.on('end', () => {
          if (stored) { status(412, '{"error":{"message":"precondition failed"}}')(req, res); return; }
          stored = true;
          req.socket.resetAndDestroy();
        });
      } else status(200, JSON.stringify({ name: 'm/x.json', ...stored_ }))(req, res);
    };
    return Object.assign(handler, { urls });
  }

  it('recognises its own first copy by MD5, CRC32C, size and creation time when the first answer was lost', async () => {
    const server = storesThenResets({ ...ours, timeCreated: new Date().toISOString() });
    assert.deepEqual(await (await gcs(server, { retry: RETRY })).createOnly('gs://bucket/m/x.json', data, 'application/json'), { md5, size: data.length });
    assert.deepEqual(server.urls.map((u) => u.split(' ')[0]), ['POST', 'POST', 'GET']);
  });

  it('is ALREADY_EXISTS when the name holds other bytes, and a first-attempt 412 is never looked into', async () => {
    const other = storesThenResets({ ...ours, md5Hash: createHash('md5').update('someone else').digest('base64') });
    await assert.rejects((await gcs(other, { retry: RETRY })).createOnly('gs://bucket/m/x.json', data, 'application/json'), code('ALREADY_EXISTS', false));
    const first = flaky(9, status(412), status(200));
    await assert.rejects((await gcs(first, { retry: RETRY })).createOnly('gs://bucket/m/x.json', data, 'application/json'), code('ALREADY_EXISTS', false));
    assert.equal(first.urls.length, 1);
  });

  it('is ALREADY_EXISTS when only the MD5 matches (another CRC32C or size), or the same bytes were stored before its first attempt', async () => {
    for (const stored of [{ ...ours, crc32c: 'AAAAAA==' }, { ...ours, size: '999' }, { ...ours, timeCreated: new Date(Date.now() - 3_600_000).toISOString() }]) {
      await assert.rejects((await gcs(storesThenResets(stored), { retry: RETRY })).createOnly('gs://bucket/m/x.json', data, 'application/json'), code('ALREADY_EXISTS', false), JSON.stringify(stored));
    }
  });
});

describe('with a billing project', () => {
  it('sends userProject on every call: metadata, listing, download, create, and the look at an own first copy', async () => {
    const seen: string[] = [];
    let posts = 0;
    const storage = await gcs((req, res) => {
      seen.push(req.url ?? '');
      if (req.method === 'POST') { req.resume(); req.on('end', () => (++posts === 1 ? status(503)(req, res) : status(412)(req, res))); return; }
      if (req.url?.includes('alt=media')) { res.writeHead(200).end('hello'); return; }
      if (req.url?.includes('/o?')) { status(200, '{"items":[]}')(req, res); return; }
      // After the lost create, the look at the name finds our copy of 'x'.
      status(200, posts === 0 ? META : JSON.stringify({ name: 'm', size: '1', generation: '7', md5Hash: createHash('md5').update('x').digest('base64'), crc32c: crc32cBase64(Buffer.from('x')) }))(req, res);
    }, { userProject: 'billing-proj', retry: RETRY });
    await storage.read('gs://bucket/m', 100);
    for await (const o of storage.list('gs://bucket/p/')) void o;
    await storage.createOnly('gs://bucket/m', Buffer.from('x'), 'text/plain');
    assert.equal(seen.length, 6);
    for (const url of seen) assert.equal(new URL(url, 'http://x').searchParams.get('userProject'), 'billing-proj', url);
    const plain: string[] = [];
    await (await gcs((req, res) => { plain.push(req.url ?? ''); status(200, META)(req, res); })).stat('gs://bucket/m');
    assert.doesNotMatch(plain[0] ?? '', /userProject/);
  });
});
