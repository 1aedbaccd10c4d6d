// gs:// objects through our Cloud Storage JSON API client (gcs-http.ts). Create-only is a
// multipart upload with ifGenerationMatch=0: GCS (and fake-gcs-server) enforce the precondition
// on multipart uploads, while fake-gcs-server ignores it on simple media uploads.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { GcsHttp, type GcsObject } from './gcs-http.ts';
import { readBounded, tooLarge } from './read-bounded.ts';
import { StorageError } from './errors.ts';
import type { Created, RetryPolicy, Storage, StorageConfig, StoredObject } from './types.ts';
import { formatStorageUri, invalid, parseStorageUri } from './uri.ts';

const PAGE_SIZE = 1000;
const REQUEST_MS = 30_000;
const READ_STALL_MS = 60_000;
/** Pages of other objects statAll() reads through before it asks name by name. */
const MAX_RANGE_PAGES = 3;

/** `config.userProject` is the billing project; `retry` absent: one attempt per call. */
export function createGcsClient(config: NonNullable<StorageConfig['gcs']>, requestMs = REQUEST_MS, retry?: RetryPolicy): GcsHttp {
  return new GcsHttp({ ...(config.apiEndpoint === undefined ? {} : { apiEndpoint: config.apiEndpoint }), userProject: config.userProject, requestMs, retry, proxyEnv: config.proxyEnv });
}

type GsLocation = { bucket: string; key: string; generation?: string };

export class GcsStorage implements Storage {
  readonly #client: GcsHttp;
  readonly #pageSize: number;
  readonly #readStallMs: number;

  constructor(client: GcsHttp, options: { pageSize?: number; readStallMs?: number | undefined } = {}) {
    this.#client = client;
    this.#pageSize = options.pageSize ?? PAGE_SIZE;
    this.#readStallMs = options.readStallMs ?? READ_STALL_MS;
  }

  async *list(prefixUri: string): AsyncIterable<StoredObject> {
    const loc = gsLocation(prefixUri);
    if (loc.generation !== undefined) throw invalid(prefixUri, 'a prefix cannot name a generation');
    let pageToken: string | undefined;
    do {
      const page = await this.#client.list(loc.bucket, loc.key, this.#pageSize, pageToken);
      for (const item of page.items) yield toStoredObject(loc.bucket, item);
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  async stat(uri: string): Promise<StoredObject | undefined> {
    const loc = gsObject(uri);
    try {
      return toStoredObject(loc.bucket, { ...(await this.#client.getMetadata(loc.bucket, loc.key, loc.generation)), name: loc.key });
    } catch (err) {
      if (err instanceof StorageError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  /**
   * One listing of the range the names span (their common prefix, from the first name to just past
   * the last) instead of one request per name — the provenance names next to a model share all but
   * their last few characters. Other objects in that range (a tenant's `model.pth.bak`) are paged
   * past; past MAX_RANGE_PAGES of them each name is asked on its own. Names in several buckets,
   * or naming a generation, are asked one by one.
   */
  async statAll(uris: readonly string[]): Promise<Array<StoredObject | undefined>> {
    const locs = uris.map(gsObject);
    const bucket = locs[0]?.bucket;
    if (locs.length < 2 || locs.some((l) => l.bucket !== bucket || l.generation !== undefined)) return Promise.all(uris.map((u) => this.stat(u)));
    const keys = locs.map((l) => l.key);
    const sorted = [...keys].sort();
    // endOffset is exclusive: the last name followed by the lowest printable character.
    const range = { startOffset: sorted[0] as string, endOffset: `${sorted.at(-1) as string} ` };
    const prefix = commonPrefix(sorted);
    const found = new Map<string, StoredObject>();
    let pageToken: string | undefined;
    let pages = 0;
    do {
      if (++pages > MAX_RANGE_PAGES) return Promise.all(uris.map((u) => this.stat(u)));
      const page = await this.#client.list(bucket as string, prefix, this.#pageSize, pageToken, range);
      for (const item of page.items) if (keys.includes(item.name)) found.set(item.name, toStoredObject(bucket as string, item));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return keys.map((k) => found.get(k));
  }

  /**
   * The download starts at once; its failures (NOT_FOUND too) arrive as stream errors. A
   * read that delivers no byte for the stall deadline fails (retryable) instead of waiting for good;
   * a slow but moving read of a large model is never cut off. The response's chunks are pushed
   * straight into the returned stream, paused while that stream is full (a PassThrough piped in
   * between cost 9 % of a download's speed: bench/pull.ts, operator case).
   */
  openRead(uri: string): Promise<Readable> {
    const loc = gsObject(uri);
    const abort = new AbortController();
    let body: IncomingMessage | undefined;
    let ended = false;
    const out = new Readable({
      highWaterMark: 1 << 20,
      read: () => { body?.resume(); },
      destroy: (err, done) => {
        clearTimeout(stall);
        // Only a download cut short has a request to end (an abort builds a DOMException with a stack).
        if (!ended) abort.abort();
        done(err);
      },
    });
    const fail = (err: unknown): void => {
      out.destroy(err instanceof StorageError ? err : new StorageError('UNAVAILABLE', `${uri}: ${(err as Error).message}`, { cause: err, retryable: true }));
    };
    // One timer, pushed back by each chunk (refresh() costs less than a new timer per chunk).
    const stall = setTimeout(() => fail(new StorageError('UNAVAILABLE', `${uri}: no data for ${Math.round(this.#readStallMs / 1000)} s`, { retryable: true })), this.#readStallMs);
    stall.unref();
    this.#client.download(loc.bucket, loc.key, loc.generation, abort.signal).then((res) => {
      body = res;
      res.on('data', (chunk: Buffer) => {
        stall.refresh();
        if (!out.push(chunk)) res.pause();
      });
      res.on('end', () => {
        ended = true;
        out.push(null);
      });
      res.on('error', (err) => { if (!out.destroyed) fail(err); });
    }, (err: unknown) => { if (!out.destroyed) fail(err); });
    return Promise.resolve(out);
  }

  async read(uri: string, maxBytes: number): Promise<Buffer> {
    const found = await this.stat(uri);
    if (!found) throw new StorageError('NOT_FOUND', `${uri}: not found`);
    if (found.size > maxBytes) throw tooLarge(uri, maxBytes, found.size);
    // Read exactly the generation we sized, in case the object is replaced meanwhile.
    const pinned = found.generation === undefined ? uri : formatStorageUri({ scheme: 'gs', ...gsObject(uri), generation: found.generation });
    return readBounded(await this.openRead(pinned), uri, maxBytes);
  }

  async createOnly(uri: string, data: Buffer, contentType: string): Promise<Created> {
    const loc = gsObject(uri);
    if (loc.generation !== undefined) throw invalid(uri, 'cannot create a specific generation');
    const created = await this.#client.createOnly(loc.bucket, loc.key, data, contentType);
    return {
      ...(created.md5Hash ? { md5: created.md5Hash } : {}),
      ...(created.size !== undefined ? { size: Number(created.size) } : {}),
    };
  }
}

function commonPrefix(sorted: readonly string[]): string {
  const first = sorted[0] ?? '';
  const last = sorted.at(-1) ?? '';
  let i = 0;
  while (i < first.length && first[i] === last[i]) i++;
  return first.slice(0, i);
}

function gsLocation(uri: string): GsLocation {
  const loc = parseStorageUri(uri);
  if (loc.scheme !== 'gs') throw invalid(uri, 'not a gs:// URI');
  return loc;
}

function gsObject(uri: string): GsLocation {
  const loc = gsLocation(uri);
  if (loc.key === '') throw invalid(uri, 'names a bucket, not an object');
  return loc;
}

/** JSON API metadata (numbers as strings) converted once into our own shape; uri without generation. */
function toStoredObject(bucket: string, object: GcsObject): StoredObject {
  const created = object.timeCreated === undefined ? undefined : new Date(object.timeCreated);
  return {
    uri: formatStorageUri({ scheme: 'gs', bucket, key: object.name }),
    size: Number(object.size ?? 0),
    ...(object.generation === undefined ? {} : { generation: String(object.generation) }),
    ...(created === undefined || Number.isNaN(created.getTime()) ? {} : { created }),
  };
}
