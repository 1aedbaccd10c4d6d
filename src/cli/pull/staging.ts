// Where a pull writes before the model is verified: a hidden directory inside DEST, so that its
// files move into place by rename on the same file system. (DEST's parent would not do: KServe's
// DEST, /mnt/models, is a volume mount point, and its parent is another file system.) Nothing
// reaches DEST's own entries until commit(); discard() removes the staging directory whatever
// happened, and DEST itself when the pull created it. An entry of DEST that has a name of the
// model is replaced at commit (a re-run after a Pod restart finds the last pull's files there);
// the rest of DEST is left alone.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { CopySink, CopyTarget } from '../../digest/index.ts';
import { InputError } from '../errors.ts';
import { describeFsError } from '../local-files.ts';

/**
 * Staging directories are named so; one a killed pull left behind is removed by the next (so two
 * pulls must not share a DEST at the same time).
 */
export const STAGING_PREFIX = '.slsa-ml-pull-';

interface Move {
  readonly name: string;
  /** The entry of DEST it replaced was moved aside into the staging directory. */
  readonly replaced: boolean;
}

export class Staging {
  readonly dest: string;
  readonly #root: string;
  readonly #created: boolean;
  #committed = false;

  private constructor(dest: string, root: string, created: boolean) {
    this.dest = dest;
    this.#root = root;
    this.#created = created;
  }

  /** `dest` is absolute; made when missing. */
  static async open(dest: string): Promise<Staging> {
    const created = await makeDestination(dest);
    try {
      await removeLeftovers(dest);
      const root = join(dest, `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`);
      await mkdir(join(root, 'model'), { recursive: true });
      await mkdir(join(root, 'replaced'));
      return new Staging(dest, root, created);
    } catch (err) {
      if (created) await rmdir(dest).catch(() => undefined);
      throw destinationError(dest, err);
    }
  }

  /** Each model file is created new (never through a link) under the staging directory. */
  get sink(): CopySink {
    return { open: (path) => this.#openFile(path) };
  }

  /** Moves every staged entry into DEST; on a failure puts back what it moved and rethrows. */
  async commit(): Promise<void> {
    const moves: Move[] = [];
    try {
      for (const name of await readdir(this.#model)) {
        const target = join(this.dest, name);
        const replaced = await exists(target);
        if (replaced) await rename(target, join(this.#root, 'replaced', name));
        moves.push({ name, replaced });
        await rename(join(this.#model, name), target);
      }
      this.#committed = true;
    } catch (err) {
      await this.#undo(moves);
      throw destinationError(this.dest, err);
    }
  }

  async discard(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true });
    // rmdir removes only an empty directory: what the pull made, never what was there.
    if (this.#created && !this.#committed) await rmdir(this.dest).catch(() => undefined);
  }

  get #model(): string {
    return join(this.#root, 'model');
  }

  async #openFile(path: string): Promise<CopyTarget> {
    const segments = path.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..')) throw new InputError('DEST_WRITE_FAILED', `model file ${JSON.stringify(path)}: not a path under DEST`);
    const file = join(this.#model, ...segments);
    let fh: FileHandle;
    try {
      await mkdir(dirname(file), { recursive: true });
      fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (err) {
      throw writeError(path, err);
    }
    return fileTarget(fh, path);
  }

  // Reverse order: the last entry moved is the first put back.
  async #undo(moves: readonly Move[]): Promise<void> {
    for (const { name, replaced } of [...moves].reverse()) {
      const target = join(this.dest, name);
      await rename(target, join(this.#model, name)).catch(() => undefined);
      if (replaced) await rename(join(this.#root, 'replaced', name), target).catch(() => undefined);
    }
  }
}

function fileTarget(fh: FileHandle, path: string): CopyTarget {
  let closed = false;
  return {
    async write(chunk) {
      try {
        for (let done = 0; done < chunk.length;) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
      } catch (err) {
        throw writeError(path, err);
      }
    },
    async writev(chunks) {
      try {
        let { bytesWritten } = await fh.writev(chunks);
        // A short write: the rest one chunk at a time.
        for (const chunk of chunks) {
          const skip = Math.min(bytesWritten, chunk.length);
          bytesWritten -= skip;
          for (let done = skip; done < chunk.length;) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
        }
      } catch (err) {
        throw writeError(path, err);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}

/** True when DEST was made here (and may be removed again on failure). */
async function makeDestination(dest: string): Promise<boolean> {
  try {
    // DEST itself may be a link to a directory, as the user named it; nothing inside it is followed.
    const st = await stat(dest);
    if (!st.isDirectory()) throw new InputError('BAD_DESTINATION', `DEST ${dest}: not a directory`);
    return false;
  } catch (err) {
    if (err instanceof InputError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw destinationError(dest, err);
  }
  try {
    return (await mkdir(dest, { recursive: true })) !== undefined;
  } catch (err) {
    throw destinationError(dest, err);
  }
}

async function removeLeftovers(dest: string): Promise<void> {
  for (const name of await readdir(dest)) {
    if (name.startsWith(STAGING_PREFIX)) await rm(join(dest, name), { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function destinationError(dest: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  return new InputError('BAD_DESTINATION', `DEST ${dest}: ${describeFsError(err)}`, { cause: err });
}

function writeError(path: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  return new InputError('DEST_WRITE_FAILED', `cannot write ${path} under DEST: ${describeFsError(err)}`, { cause: err });
}
