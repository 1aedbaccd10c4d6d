// Measures a model in object storage: one object by its sha256, a prefix (URI ending in "/")
// by the model-signing root digest of the objects under it. Each object is read at the
// generation the listing saw, so an object replaced mid-digest cannot mix two versions.
import { formatStorageUri, objectName, parseStorageUri } from '../storage/index.ts';
import type { Storage, StorageLocation, StoredObject } from '../storage/index.ts';
import { concurrencyOf, digestFiles } from './digest-files.ts';
import { DigestError, throwIfAborted } from './errors.ts';
import { checkRelativePath, isIgnored } from './model-path.ts';
import { ProgressTracker } from './progress.ts';
import { hashStream } from './sha256.ts';
import type { BytesCallback, DigestOptions, HashResult, ModelDigest } from './types.ts';

interface ModelObject {
  path: string;
  size: number;
  readUri: string;
}

/** Storage failures propagate as StorageError (with `retryable`); layout problems are DigestError. */
export async function digestStorage(storage: Storage, uri: string, opts: DigestOptions = {}): Promise<ModelDigest> {
  throwIfAborted(opts.signal);
  concurrencyOf(opts);
  const loc = parseStorageUri(uri);
  if (!uri.endsWith('/')) return digestObject(storage, uri, loc, opts);
  const objects = await listModelObjects(storage, uri, loc, opts);
  return digestFiles(uri, objects, (o, onBytes, signal) => hashObject(storage, o.readUri, onBytes, signal), opts);
}

async function digestObject(storage: Storage, uri: string, loc: StorageLocation, opts: DigestOptions): Promise<ModelDigest> {
  const found = await storage.stat(uri);
  if (!found) {
    throw new DigestError('NOT_FOUND', `${uri}: no such object (a directory model's URI ends with "/")`);
  }
  opts.admit?.(found);
  const tracker = new ProgressTracker(found.size, 1, opts.onProgress);
  tracker.start();
  const signal = opts.signal ?? new AbortController().signal;
  const r = await hashObject(storage, pinned(loc, found), (n) => tracker.addBytes(n), signal);
  tracker.fileDone();
  throwIfAborted(opts.signal);
  return { kind: 'file', sha256: r.sha256, fileCount: 1, totalBytes: r.size };
}

async function listModelObjects(storage: Storage, uri: string, loc: StorageLocation, opts: DigestOptions): Promise<ModelObject[]> {
  const { signal } = opts;
  const prefix = objectName(loc);
  const objects: ModelObject[] = [];
  for await (const obj of storage.list(uri)) {
    throwIfAborted(signal);
    const objLoc = parseStorageUri(obj.uri);
    const name = objectName(objLoc);
    if (!name.startsWith(prefix)) throw new DigestError('BAD_LISTING', `${obj.uri}: listed under ${uri} but not inside it`);
    if (name.endsWith('/')) {
      // Console-created "folders": empty placeholders that no download turns into a file.
      if (obj.size === 0) continue;
      throw new DigestError('UNREPRESENTABLE_PATH', `${obj.uri}: object has data but its name ends in "/"`);
    }
    const path = name.slice(prefix.length);
    if (isIgnored(path)) continue;
    checkRelativePath(path, obj.uri);
    opts.admit?.(obj);
    objects.push({ path, size: obj.size, readUri: pinned(objLoc, obj) });
  }
  return objects;
}

function pinned(loc: StorageLocation, obj: StoredObject): string {
  if (loc.scheme !== 'gs' || obj.generation === undefined) return obj.uri;
  return formatStorageUri({ ...loc, generation: obj.generation });
}

async function hashObject(storage: Storage, uri: string, onBytes: BytesCallback, signal: AbortSignal): Promise<HashResult> {
  throwIfAborted(signal);
  try {
    return await hashStream(await storage.openRead(uri), onBytes, signal);
  } catch (err) {
    // The generation the listing saw is gone: the object was replaced or deleted while it was measured.
    const loc = parseStorageUri(uri);
    if (isNotFound(err) && loc.scheme === 'gs' && loc.generation !== undefined) {
      const { generation, ...unpinned } = loc;
      throw new DigestError('MODEL_CHANGED', `${formatStorageUri(unpinned)} was replaced or deleted while it was being measured (generation ${generation} is gone)`, { cause: err });
    }
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { name?: string; code?: string } | undefined)?.name === 'StorageError' && (err as { code?: string }).code === 'NOT_FOUND';
}
