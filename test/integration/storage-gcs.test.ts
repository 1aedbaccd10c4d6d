// gs:// Storage against fake-gcs-server through our JSON API client (objects checked with the
// real @google-cloud/storage client).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';

import { createGcsClient, createStorage, GcsStorage, StorageError } from '../../src/storage/index.ts';
import type { Storage, StoredObject } from '../../src/storage/index.ts';
import { crc32cBase64 } from '../../src/storage/crc32c.ts';
import { testEnv, uniqueName } from '../harness/index.ts';

const storageCode = (code: string) => (e: unknown) => e instanceof StorageError && e.code === code;

function setup(hint: string): { storage: Storage; base: string; raw: ReturnType<ReturnType<typeof testEnv>['storageClient']>; prefix: string } {
  const env = testEnv();
  const prefix = uniqueName(hint);
  return {
    storage: createStorage({ gcs: { apiEndpoint: env.gcsEndpoint } }),
    base: `gs://${env.bucket}/${prefix}`,
    raw: env.storageClient(),
    prefix,
  };
}

async function collect(iterable: AsyncIterable<StoredObject>): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const o of iterable) out.push(o);
  return out.sort((a, b) => (a.uri < b.uri ? -1 : 1));
}

describe('when provenance is written to gs:// create-only', () => {
  it('refuses a second create with ALREADY_EXISTS and keeps the first content', async () => {
    const { storage, base, raw, prefix } = setup('create-only');
    const uri = `${base}/model.pth.sigstore.json`;
    const first = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
    await storage.createOnly(uri, first, 'application/json');
    await assert.rejects(storage.createOnly(uri, Buffer.from('{"overwritten":true}'), 'application/json'), (e) => storageCode('ALREADY_EXISTS')(e) && !(e as StorageError).retryable);
    const file = raw.bucket(testEnv().bucket).file(`${prefix}/model.pth.sigstore.json`);
    assert.deepEqual((await file.download())[0], first);
    assert.equal((await file.getMetadata())[0].contentType, 'application/json');
  });

  it('sends the MD5 with a create: a write corrupted on the way is refused (retryable), and the name stays free for the next try', async () => {
    const { base, raw, prefix } = setup('create-corrupted');
    const target = new URL(testEnv().gcsEndpoint);
    // A relay that flips one byte of the object's data in every upload passing through it.
    const relay = createHttpServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        const at = body.indexOf('PAYLOAD-');
        if (req.url?.startsWith('/upload/') && at >= 0) body[at] = 'Q'.charCodeAt(0);
        const out = httpRequest({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        out.end(body);
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const address = relay.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const through = createStorage({ gcs: { apiEndpoint: `http://127.0.0.1:${port}` } });
      const uri = `${base}/model.pth.sigstore.json`;
      const data = Buffer.from('PAYLOAD-{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
      await assert.rejects(through.createOnly(uri, data, 'application/json'), (e) => storageCode('CORRUPTED_IN_TRANSIT')(e) && (e as StorageError).retryable);
      const file = raw.bucket(testEnv().bucket).file(`${prefix}/model.pth.sigstore.json`);
      assert.equal((await file.exists())[0], false, 'nothing stored under the name');
      const { storage } = setup('create-corrupted');
      await storage.createOnly(uri, data, 'application/json');
      assert.deepEqual((await file.download())[0], data, 'the next, uncorrupted write takes the name');
    } finally {
      relay.close();
    }
  });

  it('declares a CRC32C the service computes the same way (a wrong one would be refused: 400)', async () => {
    const { storage, base, raw, prefix } = setup('create-crc32c');
    const data = randomBytes(70_000);
    await storage.createOnly(`${base}/weights.sig`, data, 'application/octet-stream');
    const [metadata] = await raw.bucket(testEnv().bucket).file(`${prefix}/weights.sig`).getMetadata();
    assert.equal(metadata.crc32c, crc32cBase64(data));
  });

  it('is meaningful: the emulator does ignore the precondition on a simple media upload', async () => {
    // If createOnly used uploadType=media, the test above would pass here but overwrite on
    // fake-gcs-server; this control shows that gap is real, so the test above can fail.
    const { storage, base, prefix } = setup('media-control');
    const env = testEnv();
    await storage.createOnly(`${base}/p.json`, Buffer.from('first'), 'application/json');
    const name = encodeURIComponent(`${prefix}/p.json`);
    const res = await fetch(`${env.gcsEndpoint}/upload/storage/v1/b/${env.bucket}/o?uploadType=media&name=${name}&ifGenerationMatch=0`, {
      method: 'POST',
      body: 'second',
    });
    assert.equal(res.status, 200, 'fake-gcs-server accepted a media upload despite ifGenerationMatch=0');
    assert.equal((await storage.read(`${base}/p.json`, 100)).toString(), 'second');
  });

  it('lets exactly one of several racing writers win', async () => {
    const { storage, base } = setup('race');
    const uri = `${base}/m.intoto.jsonl`;
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => storage.createOnly(uri, Buffer.from(`writer ${i}\n`), 'application/jsonl')));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(winners.length, 1);
    assert.equal((await storage.read(uri, 100)).toString(), `writer ${winners[0]}\n`);
  });
});

describe('when gs:// objects are read', () => {
  it('reads an object whole, and refuses one larger than the limit', async () => {
    const { storage, base } = setup('read');
    const data = randomBytes(5000);
    await storage.createOnly(`${base}/bundle.json`, data, 'application/json');
    assert.deepEqual(await storage.read(`${base}/bundle.json`, 5000), data);
    await assert.rejects(storage.read(`${base}/bundle.json`, 4999), storageCode('TOO_LARGE'));
    await assert.rejects(storage.read(`${base}/missing.json`, 10), storageCode('NOT_FOUND'));
  });

  it('streams a large object in chunks', async () => {
    const { storage, base } = setup('stream');
    const data = randomBytes(3 * (1 << 20) + 11);
    await storage.createOnly(`${base}/weights.bin`, data, 'application/octet-stream');
    const chunks: Buffer[] = [];
    for await (const c of await storage.openRead(`${base}/weights.bin`)) chunks.push(c as Buffer);
    assert.ok(chunks.length > 1);
    assert.deepEqual(Buffer.concat(chunks), data);
  });

  it('reports a missing object as a NOT_FOUND stream error', async () => {
    const { storage, base } = setup('stream-missing');
    const stream = await storage.openRead(`${base}/nothing.bin`);
    await assert.rejects(async () => {
      for await (const chunk of stream) assert.fail(`no data expected, got ${String(chunk)}`);
    }, storageCode('NOT_FOUND'));
  });

  it('stats size and generation, and reads exactly that generation by #generation', async () => {
    const { storage, base, raw, prefix } = setup('stat');
    await storage.createOnly(`${base}/m.bin`, Buffer.from('v1'), 'application/octet-stream');
    const v1 = await storage.stat(`${base}/m.bin`);
    assert.equal(v1?.uri, `${base}/m.bin`);
    assert.equal(v1?.size, 2);
    assert.match(v1?.generation ?? '', /^\d+$/);
    const pinned = `${base}/m.bin#${v1?.generation}`;
    assert.equal((await storage.read(pinned, 100)).toString(), 'v1');
    // Replaced (no bucket versioning): the pinned generation is gone rather than silently new.
    await raw.bucket(testEnv().bucket).file(`${prefix}/m.bin`).save('version 2', { resumable: false });
    await assert.rejects(storage.read(pinned, 100), storageCode('NOT_FOUND'));
    assert.equal((await storage.read(`${base}/m.bin`, 100)).toString(), 'version 2');
    assert.equal(await storage.stat(`${base}/absent`), undefined);
  });
});

describe('when a gs:// prefix is listed', () => {
  it('lists every object below it, recursively, with sizes and generations', async () => {
    const { storage, base } = setup('list');
    for (const [name, data] of [['m/saved_model.pb', 'pb'], ['m/variables/variables.index', 'index'], ['m.intoto.jsonl', '{}'], ['other/x', 'x']]) {
      await storage.createOnly(`${base}/${name}`, Buffer.from(data as string), 'application/octet-stream');
    }
    const listed = await collect(storage.list(`${base}/m/`));
    assert.deepEqual(listed.map((o) => [o.uri, o.size]), [[`${base}/m/saved_model.pb`, 2], [`${base}/m/variables/variables.index`, 5]]);
    assert.ok(listed.every((o) => /^\d+$/.test(o.generation ?? '')));
    assert.equal((await collect(storage.list(`${base}/m`))).length, 3, 'a prefix without "/" matches by name, as GCS does');
  });

  it('follows page tokens', async () => {
    const env = testEnv();
    const { storage, base } = setup('pages');
    for (let i = 0; i < 5; i++) await storage.createOnly(`${base}/p/${i}`, Buffer.from(String(i)), 'text/plain');
    const paged = new GcsStorage(createGcsClient({ apiEndpoint: env.gcsEndpoint }), { pageSize: 2 });
    assert.deepEqual((await collect(paged.list(`${base}/p/`))).map((o) => o.uri), [0, 1, 2, 3, 4].map((i) => `${base}/p/${i}`));
  });
});

describe('when GCS cannot be reached', () => {
  it('fails with a retryable UNAVAILABLE', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const storage = new GcsStorage(createGcsClient({ apiEndpoint: `http://127.0.0.1:${closed}` }));
    await assert.rejects(storage.stat('gs://some-bucket/m.bin'), (e) => storageCode('UNAVAILABLE')(e) && (e as StorageError).retryable);
    await assert.rejects(storage.createOnly('gs://some-bucket/m.bin', Buffer.from('x'), 'text/plain'), storageCode('UNAVAILABLE'));
  });
});
