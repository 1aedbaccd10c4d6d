import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';

import { DigestError, digestLocalPath, digestStorage } from '../../src/digest/index.ts';
import { createStorage, parseStorageUri, StorageError } from '../../src/storage/index.ts';
import { toFailure } from '../../operator/reconcile/index.ts';
import type { Created, Storage, StoredObject } from '../../src/storage/index.ts';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const digestCode = (code: string) => (e: unknown) => e instanceof DigestError && e.code === code;

/** A bucket in memory: lists objects with generations and records every read. */
class MemoryBucket implements Storage {
  readonly objects = new Map<string, { data: Buffer; generation: string }>();
  readonly reads: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readDelayMs = 0;
  failReads: StorageError | undefined;

  put(key: string, data: string | Buffer, generation = '1000'): this {
    this.objects.set(key, { data: Buffer.from(data), generation });
    return this;
  }

  list(prefixUri: string): AsyncIterable<StoredObject> {
    const { key: prefix } = gs(prefixUri);
    const listed = [...this.objects]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, o]) => ({ uri: `gs://bucket/${key}`, size: o.data.length, generation: o.generation }));
    return Readable.from(listed);
  }

  stat(uri: string): Promise<StoredObject | undefined> {
    const o = this.objects.get(gs(uri).key);
    return Promise.resolve(o && { uri, size: o.data.length, generation: o.generation });
  }

  statAll(uris: readonly string[]): Promise<Array<StoredObject | undefined>> {
    return Promise.all(uris.map((uri) => this.stat(uri)));
  }

  async openRead(uri: string): Promise<Readable> {
    this.reads.push(uri);
    if (this.failReads) throw this.failReads;
    const { key, generation } = gs(uri);
    const o = this.objects.get(key);
    if (!o || (generation !== undefined && generation !== o.generation)) throw new StorageError('NOT_FOUND', uri);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await sleep(this.readDelayMs);
    this.inFlight--;
    return Readable.from([o.data.subarray(0, 3), o.data.subarray(3)]);
  }

  read(): Promise<Buffer> {
    throw new Error('not used');
  }

  createOnly(): Promise<Created> {
    throw new Error('not used');
  }
}

function gs(uri: string): { key: string; generation?: string } {
  const loc = parseStorageUri(uri);
  if (loc.scheme !== 'gs') throw new Error(uri);
  return loc;
}

const scratch = mkdtempSync(join(tmpdir(), 'digest-storage-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function localTree(name: string, files: Record<string, string>): string {
  const root = join(scratch, name);
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  return root;
}

const MODEL = {
  'saved_model.pb': 'graph',
  'variables/variables.index': 'index',
  'variables/variables.data-00000-of-00001': 'weights',
  'assets/vocab.txt': 'a b c',
  'a-b': '1',
  'a/b': '2',
  'sub/.gitignore': 'kept: only top-level git files are ignored',
};

function bucketWith(prefix: string, files: Record<string, string>): MemoryBucket {
  const bucket = new MemoryBucket();
  for (const [path, data] of Object.entries(files)) bucket.put(`${prefix}${path}`, data);
  return bucket;
}

describe('when a model prefix in storage is digested', () => {
  it('gives the same root digest as the same tree on local disk', async () => {
    const local = await digestLocalPath(localTree('same', MODEL));
    const remote = await digestStorage(bucketWith('m/v3/saved_model/', MODEL), 'gs://bucket/m/v3/saved_model/');
    assert.deepEqual(remote, local);
  });

  it('gives the same digest through file:// storage', async () => {
    const root = localTree('file-storage', MODEL);
    const viaStorage = await digestStorage(createStorage({}), `${pathToFileURL(root).href}/`);
    assert.deepEqual(viaStorage, await digestLocalPath(root));
  });

  it('skips empty folder placeholders and the git files model-signing ignores', async () => {
    const plain = await digestStorage(bucketWith('m/', MODEL), 'gs://bucket/m/');
    const bucket = bucketWith('m/', MODEL).put('m/', '').put('m/variables/', '').put('m/.git/config', 'x').put('m/.gitattributes', '*.bin lfs');
    assert.deepEqual(await digestStorage(bucket, 'gs://bucket/m/'), plain);
  });

  it('reads each object at the generation the listing saw', async () => {
    const bucket = new MemoryBucket().put('m/a', 'x', '17').put('m/b', 'y', '18');
    await digestStorage(bucket, 'gs://bucket/m/');
    assert.deepEqual(bucket.reads.sort(), ['gs://bucket/m/a#17', 'gs://bucket/m/b#18']);
  });

  it('names a model replaced or deleted while it was measured MODEL_CHANGED (its listed generation is gone), and the operator retries it', async () => {
    const bucket = new MemoryBucket().put('m/a', 'x', '17').put('m/b', 'y', '18');
    // Replaced after the listing saw generation 18: reading #18 now answers 404.
    const list = bucket.list.bind(bucket);
    bucket.list = async function* (uri: string) {
      for await (const o of list(uri)) yield o;
      bucket.put('m/b', 'replaced', '19');
    };
    await assert.rejects(digestStorage(bucket, 'gs://bucket/m/'), (e: unknown) => e instanceof DigestError && e.code === 'MODEL_CHANGED' && /gs:\/\/bucket\/m\/b was replaced or deleted while it was being measured \(generation 18 is gone\)/.test(e.message));
    const single = new MemoryBucket().put('w.pth', 'x', '5');
    const stat = single.stat.bind(single);
    single.stat = async (uri: string) => {
      const found = await stat(uri);
      single.objects.delete('w.pth');
      return found;
    };
    const err = await digestStorage(single, 'gs://bucket/w.pth').catch((e: unknown) => e);
    assert.ok(err instanceof DigestError && err.code === 'MODEL_CHANGED', String(err));
    const failure = toFailure(err);
    assert.deepEqual([failure.code, failure.retryable], ['MODEL_CHANGED', true]);
    // Never there at all is still MODEL_NOT_FOUND, for good.
    const missing = toFailure(await digestStorage(new MemoryBucket(), 'gs://bucket/none.pth').catch((e: unknown) => e));
    assert.deepEqual([missing.code, missing.retryable], ['MODEL_NOT_FOUND', false]);
  });

  it('refuses names that no directory can hold', async () => {
    await assert.rejects(digestStorage(bucketWith('m/', { 'a//b': 'x' }), 'gs://bucket/m/'), digestCode('UNREPRESENTABLE_PATH'));
    await assert.rejects(digestStorage(new MemoryBucket().put('m/dir/', 'data'), 'gs://bucket/m/'), digestCode('UNREPRESENTABLE_PATH'));
    await assert.rejects(digestStorage(bucketWith('m/', { x: '1', 'x/y': '2' }), 'gs://bucket/m/'), digestCode('PATH_CONFLICT'));
  });

  it('refuses an empty prefix, even one holding only a placeholder', async () => {
    await assert.rejects(digestStorage(new MemoryBucket().put('m/', ''), 'gs://bucket/m/'), digestCode('EMPTY_MODEL'));
  });

  it('hashes up to `concurrency` objects at once, with the same result as one at a time', async () => {
    const files = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`shard-${i}.bin`, `weights ${i}`]));
    const serial = bucketWith('m/', files);
    serial.readDelayMs = 5;
    const parallel = bucketWith('m/', files);
    parallel.readDelayMs = 5;
    const one = await digestStorage(serial, 'gs://bucket/m/', { concurrency: 1 });
    const three = await digestStorage(parallel, 'gs://bucket/m/', { concurrency: 3 });
    assert.deepEqual(three, one);
    assert.equal(serial.maxInFlight, 1);
    assert.equal(parallel.maxInFlight, 3);
  });

  it('passes storage failures on with their retryability', async () => {
    const bucket = bucketWith('m/', MODEL);
    bucket.failReads = new StorageError('UNAVAILABLE', 'gcs 503', { retryable: true });
    await assert.rejects(digestStorage(bucket, 'gs://bucket/m/'), (e) => e instanceof StorageError && e.retryable);
  });

  it('stops when aborted', async () => {
    const bucket = bucketWith('m/', MODEL);
    await assert.rejects(digestStorage(bucket, 'gs://bucket/m/', { signal: AbortSignal.abort() }), digestCode('ABORTED'));
    assert.deepEqual(bucket.reads, []);
  });
});

describe('when a single object in storage is digested', () => {
  it('gives the sha256 of its bytes, read at its current generation', async () => {
    const bucket = new MemoryBucket().put('m/model.pth', 'weights', '42');
    const d = await digestStorage(bucket, 'gs://bucket/m/model.pth');
    assert.deepEqual(d, { kind: 'file', sha256: sha256('weights'), fileCount: 1, totalBytes: 7 });
    assert.deepEqual(bucket.reads, ['gs://bucket/m/model.pth#42']);
  });

  it('says NOT_FOUND, hinting at the trailing slash of a directory model', async () => {
    const bucket = bucketWith('m/saved_model/', MODEL);
    await assert.rejects(digestStorage(bucket, 'gs://bucket/m/saved_model'), (e) => digestCode('NOT_FOUND')(e) && /ends with "\/"/.test((e as Error).message));
  });

  it('refuses an invalid URI', async () => {
    await assert.rejects(digestStorage(new MemoryBucket(), 'gs://Bad_Bucket/x'), (e) => e instanceof StorageError && e.code === 'INVALID_URI');
  });
});
