// Measures a model in object storage: one object by its sha256, a prefix (URI ending in "/")
// by the model-signing root digest of the objects under it. Each object is read at the
// generation the listing saw, so an object replaced mid-digest cannot mix two versions. With
// `copyTo`, each object is also written out as it is hashed (slsa-ml pull). From 64 MiB on, the
// bytes are hashed on a thread of their own (StreamHasher) while this one receives them.
import { formatStorageUri, objectName, parseStorageUri } from '../storage/index.ts';
import type { Storage, StorageLocation, StoredObject } from '../storage/index.ts';
import { concurrencyOf, digestFiles } from './digest-files.ts';
import { WORKER_THRESHOLD_BYTES } from './digest-local.ts';
import { DigestError, throwIfAborted } from './errors.ts';
import { checkRelativePath, isIgnored } from './model-path.ts';
import { ProgressTracker } from './progress.ts';
import { hashStream } from './sha256.ts';
import { useSharedHasher, type StreamHasher } from './stream-hasher.ts';
import type { BytesCallback, CopySink, DigestOptions, HashResult, ModelDigest } from './types.ts';

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
  const thread = threadFor(objects.reduce((n, o) => n + o.size, 0));
  try {
    return await digestFiles(uri, objects, (o, onBytes, signal) => hashObject(storage, { uri: o.readUri, path: o.path, onBytes, signal, copyTo: opts.copyTo, hasher: thread?.hasher }), opts);
  } finally {
    thread?.done();
  }
}

/** Below this much data, starting a thread costs more than hashing here. */
function threadFor(bytes: number): ReturnType<typeof useSharedHasher> | undefined {
  return bytes >= WORKER_THRESHOLD_BYTES ? useSharedHasher() : undefined;
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
  const name = objectName(loc).split('/').pop() ?? '';
  const thread = threadFor(found.size);
  let r: HashResult;
  try {
    r = await hashObject(storage, { uri: pinned(loc, found), path: name, onBytes: (n) => tracker.addBytes(n), signal, copyTo: opts.copyTo, hasher: thread?.hasher });
  } finally {
    thread?.done();
  }
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

interface ObjectRead {
  readonly uri: string;
  /** Model-relative path, for the copy. */
  readonly path: string;
  readonly onBytes: BytesCallback;
  readonly signal: AbortSignal;
  readonly copyTo: CopySink | undefined;
  /** The hashing thread, for a model large enough to be worth one. */
  readonly hasher: StreamHasher | undefined;
}

async function hashObject(storage: Storage, read: ObjectRead): Promise<HashResult> {
  const { uri, signal } = read;
  throwIfAborted(signal);
  const copy = await read.copyTo?.open(read.path);
  try {
    const stream = await storage.openRead(uri);
    return await (read.hasher ? read.hasher.hash(stream, { onBytes: read.onBytes, signal, copy }) : hashStream(stream, read.onBytes, signal, copy));
  } catch (err) {
    // The generation the listing saw is gone: the object was replaced or deleted while it was measured.
    const loc = parseStorageUri(uri);
    if (isNotFound(err) && loc.scheme === 'gs' && loc.generation !== undefined) {
      const { generation, ...unpinned } = loc;
      throw new DigestError('MODEL_CHANGED', `${formatStorageUri(unpinned)} was replaced or deleted while it was being measured (generation ${generation} is gone)`, { cause: err });
    }
    throw err;
  } finally {
    await copy?.close();
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { name?: string; code?: string } | undefined)?.name === 'StorageError' && (err as { code?: string }).code === 'NOT_FOUND';
}
