// gs:// objects through @google-cloud/storage. Create-only is a multipart upload with
// ifGenerationMatch=0: GCS (and fake-gcs-server) enforce the precondition on multipart and
// resumable uploads, while fake-gcs-server ignores it on simple media uploads.
import { Storage as GcsClient } from '@google-cloud/storage';
import type { File } from '@google-cloud/storage';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import { fromGcsError } from './gcs-errors.ts';
import { readBounded, tooLarge } from './read-bounded.ts';
import { StorageError } from './errors.ts';
import type { Storage, StorageConfig, StoredObject } from './types.ts';
import { formatStorageUri, invalid, parseStorageUri } from './uri.ts';

const PAGE_SIZE = 1000;
const REQUEST_MS = 30_000;
const READ_STALL_MS = 60_000;

/**
 * The client retries conditionally idempotent calls itself; keep that short, because the
 * operator owns the retry budget (`maxRetries: 0` would silently mean the default of 3).
 */
export function createGcsClient(config: NonNullable<StorageConfig['gcs']>, requestMs = REQUEST_MS): GcsClient {
  return new GcsClient({
    ...(config.apiEndpoint === undefined ? {} : { apiEndpoint: config.apiEndpoint }),
    ...(config.projectId === undefined ? {} : { projectId: config.projectId }),
    // Per HTTP request; without it a server that accepts the connection and never answers holds the caller for good.
    timeout: requestMs,
    retryOptions: { autoRetry: true, maxRetries: 2, maxRetryDelay: 4, totalTimeout: Math.ceil(requestMs / 1000) },
  });
}

type GsLocation = { bucket: string; key: string; generation?: string };

export class GcsStorage implements Storage {
  readonly #client: GcsClient;
  readonly #pageSize: number;
  readonly #readStallMs: number;

  constructor(client: GcsClient, options: { pageSize?: number; readStallMs?: number | undefined } = {}) {
    this.#client = client;
    this.#pageSize = options.pageSize ?? PAGE_SIZE;
    this.#readStallMs = options.readStallMs ?? READ_STALL_MS;
  }

  async *list(prefixUri: string): AsyncIterable<StoredObject> {
    const loc = gsLocation(prefixUri);
    if (loc.generation !== undefined) throw invalid(prefixUri, 'a prefix cannot name a generation');
    const bucket = this.#client.bucket(loc.bucket);
    let pageToken: string | undefined;
    do {
      const [files, next] = await bucket
        .getFiles({ prefix: loc.key, autoPaginate: false, maxResults: this.#pageSize, ...(pageToken ? { pageToken } : {}) })
        .catch((err: unknown) => {
          throw fromGcsError(err, prefixUri);
        });
      for (const file of files) yield toStoredObject(loc.bucket, file);
      // The last page's "next query" is null at runtime, whatever the typings say.
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  async stat(uri: string): Promise<StoredObject | undefined> {
    const loc = gsObject(uri);
    try {
      const [metadata] = await this.#file(loc).getMetadata();
      return toStoredObject(loc.bucket, { name: loc.key, metadata });
    } catch (err) {
      const mapped = fromGcsError(err, uri);
      if (mapped.code === 'NOT_FOUND') return undefined;
      throw mapped;
    }
  }

  /**
   * The request starts when the stream is first read, so NOT_FOUND arrives as a stream error. A
   * read that delivers no byte for the stall deadline fails (retryable) instead of waiting for good;
   * a slow but moving read of a large model is never cut off.
   */
  async openRead(uri: string): Promise<Readable> {
    const source = this.#file(gsObject(uri)).createReadStream();
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    let stall: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(stall);
      stall = setTimeout(() => {
        out.destroy(new StorageError('UNAVAILABLE', `${uri}: no data for ${Math.round(this.#readStallMs / 1000)} s`, { retryable: true }));
      }, this.#readStallMs);
      stall.unref();
    };
    source.on('data', arm);
    source.on('error', (err) => out.destroy(fromGcsError(err, uri)));
    out.on('close', () => {
      clearTimeout(stall);
      source.destroy();
    });
    arm();
    return Promise.resolve(source.pipe(out));
  }

  async read(uri: string, maxBytes: number): Promise<Buffer> {
    const found = await this.stat(uri);
    if (!found) throw new StorageError('NOT_FOUND', `${uri}: not found`);
    if (found.size > maxBytes) throw tooLarge(uri, maxBytes, found.size);
    // Read exactly the generation we sized, in case the object is replaced meanwhile.
    const pinned = found.generation === undefined ? uri : formatStorageUri({ scheme: 'gs', ...gsObject(uri), generation: found.generation });
    return readBounded(await this.openRead(pinned), uri, maxBytes);
  }

  async createOnly(uri: string, data: Buffer, contentType: string): Promise<void> {
    const loc = gsObject(uri);
    if (loc.generation !== undefined) throw invalid(uri, 'cannot create a specific generation');
    try {
      await this.#file(loc).save(data, {
        resumable: false,
        contentType,
        preconditionOpts: { ifGenerationMatch: 0 },
      });
    } catch (err) {
      throw fromGcsError(err, uri);
    }
  }

  #file(loc: GsLocation): File {
    const bucket = this.#client.bucket(loc.bucket);
    return loc.generation === undefined ? bucket.file(loc.key) : bucket.file(loc.key, { generation: loc.generation });
  }
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

/** GCS metadata (numbers as strings) converted once into our own shape; uri without generation. */
function toStoredObject(bucket: string, file: { name: string; metadata: { size?: string | number; generation?: string | number; timeCreated?: string } }): StoredObject {
  const { size, generation, timeCreated } = file.metadata;
  const created = timeCreated === undefined ? undefined : new Date(timeCreated);
  return {
    uri: formatStorageUri({ scheme: 'gs', bucket, key: file.name }),
    size: Number(size ?? 0),
    ...(generation === undefined ? {} : { generation: String(generation) }),
    ...(created === undefined || Number.isNaN(created.getTime()) ? {} : { created }),
  };
}
