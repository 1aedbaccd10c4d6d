// file:// objects for running without a cloud. Create-only writes are atomic: the bytes go
// to a temp file in the same directory and are link()ed into place, so a crash never leaves
// a half-written object under the final name and an existing object is never replaced.
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import { StorageError } from './errors.ts';
import { walkPrefix } from './file-walk.ts';
import { fromFsError, unsupported } from './fs-errors.ts';
import { readBounded, tooLarge } from './read-bounded.ts';
import type { Storage, StoredObject } from './types.ts';
import { invalid, parseStorageUri } from './uri.ts';

const READ_CHUNK = 1 << 20;

export class FileStorage implements Storage {
  readonly #root: string | undefined;

  /** `root`: when set, every path must lie under it (checked lexically). */
  constructor(root?: string) {
    if (root !== undefined && !isAbsolute(root)) {
      throw new StorageError('INVALID_URI', `fileRoot must be an absolute path, got ${JSON.stringify(root)}`);
    }
    this.#root = root === undefined ? undefined : normalize(`${root}/`);
  }

  async *list(prefixUri: string): AsyncIterable<StoredObject> {
    yield* walkPrefix(this.#path(prefixUri, true));
  }

  async stat(uri: string): Promise<StoredObject | undefined> {
    try {
      const { fh, size } = await openObject(this.#path(uri, false), uri);
      await fh.close();
      return { uri, size };
    } catch (err) {
      if (err instanceof StorageError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async openRead(uri: string): Promise<Readable> {
    const { fh } = await openObject(this.#path(uri, false), uri);
    return fh.createReadStream({ highWaterMark: READ_CHUNK });
  }

  async read(uri: string, maxBytes: number): Promise<Buffer> {
    const { fh, size } = await openObject(this.#path(uri, false), uri);
    if (size > maxBytes) {
      await fh.close();
      throw tooLarge(uri, maxBytes, size);
    }
    return readBounded(fh.createReadStream({ highWaterMark: READ_CHUNK }), uri, maxBytes);
  }

  async createOnly(uri: string, data: Buffer, _contentType: string): Promise<void> {
    const path = this.#path(uri, false);
    const dir = dirname(path);
    const tmp = join(dir, `.slsa-ml-${randomUUID()}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      await writeDurably(tmp, data);
      await link(tmp, path);
    } catch (err) {
      throw fromFsError(err, uri);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    await syncDirectory(dir);
  }

  #path(uri: string, prefix: boolean): string {
    const loc = parseStorageUri(uri);
    if (loc.scheme !== 'file') throw invalid(uri, 'not a file:// URI');
    if (!prefix && loc.path.endsWith('/')) throw invalid(uri, 'names a directory, not an object');
    if (this.#root !== undefined && !`${loc.path}/`.startsWith(this.#root)) {
      throw invalid(uri, `outside the storage root ${this.#root}`);
    }
    return loc.path;
  }
}

/** No symlink as last component, no blocking on a FIFO; the type is checked on the descriptor. */
async function openObject(path: string, uri: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw fromFsError(err, uri);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new StorageError('NOT_FOUND', `${uri}: is a directory, not an object`);
    if (!st.isFile()) throw unsupported(uri, 'is a special file');
    return { fh, size: st.size };
  } catch (err) {
    await fh.close();
    throw fromFsError(err, uri);
  }
}

async function writeDurably(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// Makes the new name itself survive a crash; best effort where directories cannot be synced.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // fsync on a directory is unsupported on some filesystems; the link is already visible.
  }
}
