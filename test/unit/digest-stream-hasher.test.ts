// StreamHasher: downloads hashed on a thread of their own (models of 64 MiB and more). The digest
// and the copy must be exactly the stream's bytes whatever its chunks look like (socket reads that
// own their buffer and are moved to the thread, views into a shared buffer that must be copied,
// chunks larger than a batch), memory must stay bounded by pausing the stream, and every failure
// must reject only once no write is in flight.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { markAsUntransferable } from 'node:worker_threads';
import { after, describe, it } from 'node:test';

import { Staging } from '../../src/cli/pull/staging.ts';
import { DigestError, digestStorage } from '../../src/digest/index.ts';
import { BATCHES_IN_FLIGHT, BATCH_BYTES, WRITE_BYTES } from '../../src/digest/stream-hash-sizes.ts';
import { StreamHasher, useSharedHasher } from '../../src/digest/stream-hasher.ts';
import type { CopyTarget } from '../../src/digest/index.ts';
import type { Created, Storage, StoredObject } from '../../src/storage/index.ts';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const hashers: StreamHasher[] = [];
after(() => Promise.all(hashers.map((h) => h.close())));

function hasher(): StreamHasher {
  const h = new StreamHasher();
  hashers.push(h);
  return h;
}

/** Chunks of every shape a stream may yield, covering `data` in order. */
function mixedChunks(data: Buffer): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const shared = new Uint8Array(new SharedArrayBuffer(data.length));
  shared.set(data);
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const size = [65_536, 3, 1_500_000, 4096, 70_000][i % 5] as number;
    const end = Math.min(data.length, at + size);
    const kind = i % 3;
    if (kind === 0) chunks.push(Buffer.from(data.subarray(at, end))); // owns its buffer (or the pool's)
    else if (kind === 1) chunks.push(data.subarray(at, end)); // a view into a larger buffer
    else chunks.push(shared.subarray(at, end));
    at = end;
  }
  return chunks;
}

/** A copy target recording each call's bytes (writev's chunks as one); each call takes `delayMs`. */
function recorder(delayMs = 0): CopyTarget & { writes: Buffer[]; maxInFlight: number } {
  let inFlight = 0;
  const record = async (chunks: readonly Uint8Array[]): Promise<void> => {
    inFlight++;
    target.maxInFlight = Math.max(target.maxInFlight, inFlight);
    target.writes.push(Buffer.concat(chunks));
    await sleep(delayMs);
    inFlight--;
  };
  const target = {
    writes: [] as Buffer[],
    maxInFlight: 0,
    write: (chunk: Uint8Array) => record([chunk]),
    writev: record,
    close: () => Promise.resolve(),
  };
  return target;
}

describe('hashing a download on its own thread', () => {
  it('gives the sha256 of the bytes, whatever the chunks, and writes exactly them, several chunks a call', async () => {
    const data = randomBytes(9 * BATCH_BYTES + 12_345);
    const copy = recorder();
    const r = await hasher().hash(Readable.from(mixedChunks(data)), { copy });
    assert.deepEqual(r, { sha256: sha256(data), size: data.length });
    assert.ok(Buffer.concat(copy.writes).equals(data), 'the copy holds the bytes hashed');
    assert.equal(copy.maxInFlight, 1, 'one write at a time, in order');
    assert.ok(copy.writes.length <= Math.ceil(data.length / WRITE_BYTES) + 10, `${copy.writes.length} writes: batched, not one per chunk`);
    const single = recorder();
    const writeOnly: CopyTarget = { write: (chunk) => single.write(chunk), close: () => single.close() };
    assert.equal((await hasher().hash(Readable.from(mixedChunks(data)), { copy: writeOnly })).sha256, sha256(data));
    assert.ok(Buffer.concat(single.writes).equals(data), 'a target without writev gets every chunk in order');
    const alone = await hasher().hash(Readable.from(mixedChunks(data)));
    assert.equal(alone.sha256, sha256(data));
  });

  it('hashes several streams at once on one thread, and an empty one', async () => {
    const h = hasher();
    const datas = [randomBytes(3 * BATCH_BYTES + 1), randomBytes(10), Buffer.alloc(0), randomBytes(BATCH_BYTES)];
    const results = await Promise.all(datas.map((d) => h.hash(Readable.from(d.length ? mixedChunks(d) : []))));
    assert.deepEqual(results, datas.map((d) => ({ sha256: sha256(d), size: d.length })));
  });

  it('pauses the stream while its batches are in flight, so memory stays bounded', async () => {
    const total = 40 * BATCH_BYTES;
    let produced = 0;
    let written = 0;
    let maxAhead = 0;
    const source = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        produced += 64 * 1024;
        maxAhead = Math.max(maxAhead, produced - written);
        this.push(randomBytes(64 * 1024));
      },
    });
    const copy: CopyTarget = {
      async write(chunk) {
        await sleep(2);
        written += chunk.length;
      },
      close: () => Promise.resolve(),
    };
    await hasher().hash(source, { copy });
    assert.equal(written, total);
    assert.ok(maxAhead <= (BATCHES_IN_FLIGHT + 2) * BATCH_BYTES, `read ahead of the writes: ${maxAhead} bytes`);
  });

  it('copies chunks whose buffer may not be moved, and leaves moved ones to nobody else', async () => {
    const pinned = Buffer.from(randomBytes(BATCH_BYTES + 5));
    markAsUntransferable(pinned.buffer);
    const data = Buffer.concat([pinned, randomBytes(100_000)]);
    const r = await hasher().hash(Readable.from([pinned, Buffer.from(data.subarray(pinned.length))]));
    assert.equal(r.sha256, sha256(data));
    assert.equal(pinned.length, BATCH_BYTES + 5, 'an untransferable chunk stays usable');
  });

  it('refuses text', async () => {
    await assert.rejects(hasher().hash(Readable.from(['not bytes'])), (e) => e instanceof DigestError && e.code === 'BAD_STREAM');
  });

  it('passes a stream error on, and rejects only once the write in flight has ended', async () => {
    const boom = new Error('connection reset');
    let writing = false;
    const copy: CopyTarget = {
      async write() {
        writing = true;
        await sleep(30);
        writing = false;
      },
      close: () => Promise.resolve(),
    };
    const source = new Readable({ read() { /* pushed below */ } });
    const result = hasher().hash(source, { copy });
    source.push(randomBytes(2 * BATCH_BYTES));
    await sleep(10);
    source.destroy(boom);
    await assert.rejects(result, (e) => e === boom);
    assert.equal(writing, false, 'no write in flight once it rejected');
  });

  it('fails on a write error, ends the stream, and keeps the thread for the next stream', async () => {
    const h = hasher();
    const source = Readable.from(mixedChunks(randomBytes(4 * BATCH_BYTES)));
    const copy: CopyTarget = { write: () => Promise.reject(new Error('ENOSPC')), close: () => Promise.resolve() };
    await assert.rejects(h.hash(source, { copy }), /ENOSPC/);
    assert.ok(source.destroyed);
    const data = randomBytes(BATCH_BYTES + 7);
    assert.equal((await h.hash(Readable.from(mixedChunks(data)))).sha256, sha256(data));
  });

  it('stops when aborted, before or while reading', async () => {
    await assert.rejects(hasher().hash(Readable.from([randomBytes(10)]), { signal: AbortSignal.abort() }), (e) => e instanceof DigestError && e.code === 'ABORTED');
    const stop = new AbortController();
    const source = new Readable({ read() { /* never ends */ } });
    const result = hasher().hash(source, { signal: stop.signal, onBytes: () => stop.abort() });
    source.push(randomBytes(1000));
    await assert.rejects(result, (e) => e instanceof DigestError && e.code === 'ABORTED');
    assert.ok(source.destroyed);
  });
});

/** Objects of a model in memory; each read yields fresh 64 KiB chunks, as a socket does. */
function memoryStorage(objects: Record<string, Buffer>): Storage {
  const stored = (key: string): StoredObject => ({ uri: `gs://bucket/${key}`, size: (objects[key] as Buffer).length, generation: '1' });
  return {
    list: () => Readable.from(Object.keys(objects).map(stored)),
    stat: (uri) => Promise.resolve(stored(uri.slice('gs://bucket/'.length).replace(/#.*/, ''))),
    statAll: () => Promise.reject(new Error('not used')),
    openRead: (uri) => {
      const data = objects[uri.slice('gs://bucket/'.length).replace(/#.*/, '')] as Buffer;
      return Promise.resolve(Readable.from((function* () {
        for (let at = 0; at < data.length; at += 65_536) yield Buffer.from(data.subarray(at, at + 65_536));
      })()));
    },
    read: () => Promise.reject(new Error('not used')),
    createOnly: (): Promise<Created> => Promise.reject(new Error('not used')),
  };
}

describe('digestStorage of a model of 64 MiB or more (hashed on its own thread)', () => {
  it('gives the same digests as hashing here, and pull\'s staging holds exactly the bytes', async () => {
    const objects = { 'm/a.bin': randomBytes(40 << 20), 'm/b.bin': randomBytes(30 << 20), 'm/c.txt': Buffer.from('small') };
    const dest = await mkdtemp(join(tmpdir(), 'stream-hasher-'));
    after(() => rm(dest, { recursive: true, force: true }));
    const staging = await Staging.open(dest);
    const d = await digestStorage(memoryStorage(objects), 'gs://bucket/m/', { concurrency: 2, copyTo: staging.sink });
    assert.deepEqual(d.files, [
      { path: 'a.bin', sha256: sha256(objects['m/a.bin']), size: 40 << 20 },
      { path: 'b.bin', sha256: sha256(objects['m/b.bin']), size: 30 << 20 },
      { path: 'c.txt', sha256: sha256(objects['m/c.txt']), size: 5 },
    ]);
    await staging.commit();
    await staging.discard();
    for (const path of ['a.bin', 'b.bin', 'c.txt']) assert.ok((await readFile(join(dest, path))).equals(objects[`m/${path}` as keyof typeof objects]), path);
    const big = Buffer.concat([objects['m/a.bin'], objects['m/b.bin']]);
    const single = await digestStorage(memoryStorage({ 'm/big.bin': big }), 'gs://bucket/m/big.bin');
    assert.deepEqual(single, { kind: 'file', sha256: sha256(big), fileCount: 1, totalBytes: big.length });
  });
});

describe('the shared hashing thread', () => {
  it('is one thread for every digest running at once, and still serves once they are done', async () => {
    const a = useSharedHasher();
    const b = useSharedHasher();
    assert.equal(a.hasher, b.hasher);
    const data = randomBytes(BATCH_BYTES * 2);
    const [x, y] = await Promise.all([a.hasher.hash(Readable.from(mixedChunks(data))), b.hasher.hash(Readable.from([Buffer.from(data)]))]);
    assert.equal(x.sha256, sha256(data));
    assert.equal(y.sha256, sha256(data));
    a.done();
    a.done();
    b.done();
    const c = useSharedHasher();
    assert.equal(c.hasher, a.hasher, 'kept for a while after the last user');
    assert.equal((await c.hasher.hash(Readable.from([Buffer.from('x')]))).sha256, sha256(Buffer.from('x')));
    c.done();
  });
});
