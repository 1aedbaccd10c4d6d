// file:// objects for running without a cloud. Create-only writes are atomic: the bytes go
// to a temp file in the same directory and are link()ed into place, so a crash never leaves
// a half-written object under the final name and an existing object is never replaced. Under a
// storage root, objects are written and opened through the descriptor of their directory,
// reached from the root without following a link (file-under-root.ts): a directory swapped for a
// symlink while we work cannot lead a write or a read out of the root.
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, realpath, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { StorageError } from './errors.ts';
import { descriptorsAvailable, inDirectory, openBelow, openDirectory } from './file-under-root.ts';
import { createdAt, walkPrefix } from './file-walk.ts';
import { fromFsError, unsupported } from './fs-errors.ts';
import { readBounded, tooLarge } from './read-bounded.ts';
import type { Created, Storage, StoredObject } from './types.ts';
import { invalid, parseStorageUri } from './uri.ts';

const READ_CHUNK = 1 << 20;

export class FileStorage implements Storage {
  readonly #root: string | undefined;

  /**
   * `root`: when set, every path must lie under it, both as written and once every symlinked
   * directory on the way is resolved (a link inside the root cannot lead out of it).
   */
  constructor(root?: string) {
    if (root !== undefined && !isAbsolute(root)) {
      throw new StorageError('INVALID_URI', `fileRoot must be an absolute path, got ${JSON.stringify(root)}`);
    }
    this.#root = root === undefined ? undefined : normalize(`${root}/`);
  }

  async *list(prefixUri: string): AsyncIterable<StoredObject> {
    yield* walkPrefix(await this.#path(prefixUri, true));
  }

  async stat(uri: string): Promise<StoredObject | undefined> {
    try {
      const { fh, size, created } = await this.#openObject(uri);
      await fh.close();
      return { uri, size, created };
    } catch (err) {
      if (err instanceof StorageError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  statAll(uris: readonly string[]): Promise<Array<StoredObject | undefined>> {
    return Promise.all(uris.map((uri) => this.stat(uri)));
  }

  async openRead(uri: string): Promise<Readable> {
    const { fh } = await this.#openObject(uri);
    return fh.createReadStream({ highWaterMark: READ_CHUNK });
  }

  async read(uri: string, maxBytes: number): Promise<Buffer> {
    const { fh, size } = await this.#openObject(uri);
    if (size > maxBytes) {
      await fh.close();
      throw tooLarge(uri, maxBytes, size);
    }
    return readBounded(fh.createReadStream({ highWaterMark: READ_CHUNK }), uri, maxBytes);
  }

  /** Reports no checksum: what a local file holds is simply read back where that matters. */
  async createOnly(uri: string, data: Buffer, _contentType: string): Promise<Created> {
    const path = await this.#path(uri, false);
    if (this.#root !== undefined && descriptorsAvailable) return this.#createUnderRoot(uri, path, data);
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
    return {};
  }

  async #openObject(uri: string): Promise<{ fh: FileHandle; size: number; created: Date }> {
    const path = await this.#path(uri, false);
    if (this.#root === undefined || !descriptorsAvailable) return openObject(path, uri);
    const dir = await this.#directoryOf(uri, path, false);
    try {
      return await openObject(inDirectory(dir, basename(path)), uri);
    } finally {
      await dir.close();
    }
  }

  /** The temp file and the link are made in the directory's descriptor, never through its path. */
  async #createUnderRoot(uri: string, path: string, data: Buffer): Promise<Created> {
    const dir = await this.#directoryOf(uri, path, true);
    const tmp = inDirectory(dir, `.slsa-ml-${randomUUID()}.tmp`);
    try {
      await writeDurably(tmp, data);
      await link(tmp, inDirectory(dir, basename(path)));
      await dir.sync().catch(() => undefined);
      return {};
    } catch (err) {
      throw fromFsError(err, uri);
    } finally {
      await unlink(tmp).catch(() => undefined);
      await dir.close();
    }
  }

  /** The directory `path` lies in, opened from the root component by component (made with `create`). */
  async #directoryOf(uri: string, path: string, create: boolean): Promise<FileHandle> {
    const rootPath = this.#root as string;
    if (create) await mkdir(rootPath, { recursive: true }).catch(() => undefined);
    let root: FileHandle;
    try {
      root = await openDirectory(await realpath(rootPath));
    } catch (err) {
      throw fromFsError(err, uri);
    }
    const components = relative(rootPath, dirname(path)).split('/').filter((c) => c !== '');
    try {
      const dir = await openBelow(root, components, create);
      if (dir !== root) await root.close();
      return dir;
    } catch (err) {
      await root.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENOTDIR') throw invalid(uri, `resolves outside the storage root ${rootPath} (a directory on its way is a symbolic link or not a directory)`);
      throw fromFsError(err, uri);
    }
  }

  async #path(uri: string, prefix: boolean): Promise<string> {
    const loc = parseStorageUri(uri);
    if (loc.scheme !== 'file') throw invalid(uri, 'not a file:// URI');
    if (!prefix && loc.path.endsWith('/')) throw invalid(uri, 'names a directory, not an object');
    if (this.#root === undefined) return loc.path;
    if (!`${loc.path}/`.startsWith(this.#root)) throw invalid(uri, `outside the storage root ${this.#root}`);
    // A listing reads the prefix directory itself, which readdir would follow if it were a link.
    const directory = loc.path.endsWith('/') ? loc.path : dirname(loc.path);
    const [realRoot, realDir] = await Promise.all([realDirectory(this.#root), realDirectory(directory)]);
    if (!`${realDir}/`.startsWith(`${realRoot}/`)) {
      throw invalid(uri, `resolves outside the storage root ${this.#root} (through a symbolic link)`);
    }
    return loc.path;
  }
}

/**
 * The real path of `dir`, or of its deepest existing ancestor with the missing rest appended
 * (createOnly makes the rest as plain directories). The last component of an object is opened
 * with O_NOFOLLOW, and listings refuse symlinks, so only directories need resolving here.
 */
async function realDirectory(dir: string): Promise<string> {
  const missing: string[] = [];
  let at = normalize(dir).replace(/\/+$/, '') || '/';
  for (;;) {
    try {
      return join(await realpath(at), ...missing.reverse()).replace(/\/+$/, '') || '/';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || at === '/') throw fromFsError(err, `file://${dir}`);
      missing.push(basename(at));
      at = dirname(at);
    }
  }
}

/** No symlink as last component, no blocking on a FIFO; the type is checked on the descriptor. */
async function openObject(path: string, uri: string): Promise<{ fh: FileHandle; size: number; created: Date }> {
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
    return { fh, size: st.size, created: createdAt(st) };
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
