// Reaching a directory under the storage root without ever following a symbolic link on the way,
// however the tree changes meanwhile: starting from the root, opened once by its real path, each
// component is opened relative to the descriptor of its parent (through Linux's /proc/self/fd
// links, which name the open directory itself, not a path), with O_NOFOLLOW|O_DIRECTORY, and
// created there first when asked. A component swapped for a symlink fails the open (ELOOP or
// ENOTDIR) instead of leading out of the root; the caller then writes and reads through the
// descriptor of the last one. Node has no openat(); where /proc/self/fd is missing (not Linux),
// `descriptorsAvailable` is false and the caller checks real paths instead.
import { constants, existsSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';

export const descriptorsAvailable = existsSync('/proc/self/fd');

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** `/proc/self/fd/<fd>/<name>`: `name` in the directory `dir` is open on, whatever its path is now. */
export function inDirectory(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/**
 * Opens `components` one by one below the already open `root` (closing each parent once its child
 * is open). With `create`, a missing component is made as a plain directory first. Refuses with
 * the error of the component that is not a plain directory (a symlink gives ELOOP or ENOTDIR).
 */
export async function openBelow(root: FileHandle, components: readonly string[], create: boolean): Promise<FileHandle> {
  let dir = root;
  try {
    for (const name of components) {
      if (name === '' || name === '.' || name === '..') throw Object.assign(new Error(`path component ${JSON.stringify(name)}`), { code: 'EINVAL' });
      if (create) await mkdir(inDirectory(dir, name)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err; });
      const child = await open(inDirectory(dir, name), DIRECTORY_FLAGS);
      if (dir !== root) await dir.close();
      dir = child;
    }
    return dir;
  } catch (err) {
    if (dir !== root) await dir.close();
    throw err;
  }
}

export function openDirectory(path: string): Promise<FileHandle> {
  return open(path, DIRECTORY_FLAGS);
}
