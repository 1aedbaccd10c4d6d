// Lists a local directory the way an object store lists a prefix: every regular file whose
// path starts with the prefix string, recursively. Symlinks and special files are refused.
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fromFsError, unsupported } from './fs-errors.ts';
import type { StoredObject } from './types.ts';
import { formatStorageUri } from './uri.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `prefixPath` is absolute; a trailing "/" means "everything in this directory". */
export async function* walkPrefix(prefixPath: string): AsyncIterable<StoredObject> {
  const cut = prefixPath.lastIndexOf('/');
  const dir = prefixPath.slice(0, cut) || '/';
  const namePrefix = prefixPath.slice(cut + 1);
  for (const name of await namesOrNone(dir)) {
    if (name.startsWith(namePrefix)) yield* walkEntry(join(dir, name));
  }
}

async function* walkEntry(path: string): AsyncIterable<StoredObject> {
  const uri = formatStorageUri({ scheme: 'file', path });
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (err) {
    // Removed between readdir and lstat: the listing simply no longer includes it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fromFsError(err, uri);
  }
  if (st.isFile()) {
    yield { uri, size: st.size, created: createdAt(st) };
  } else if (st.isDirectory()) {
    for (const name of await namesOrNone(path)) yield* walkEntry(join(path, name));
  } else {
    throw unsupported(uri, st.isSymbolicLink() ? 'is a symlink' : 'is a special file');
  }
}

/** Birth time where the filesystem records one; else the change time, which no client can set back. */
export function createdAt(st: Stats): Date {
  return st.birthtimeMs > 0 ? st.birthtime : st.ctime;
}

async function namesOrNone(dir: string): Promise<string[]> {
  let raw: Buffer[];
  try {
    raw = await readdir(dir, { encoding: 'buffer' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw fromFsError(err, formatStorageUri({ scheme: 'file', path: dir }));
  }
  return raw.map((name) => {
    try {
      return utf8.decode(name);
    } catch (err) {
      throw unsupported(`${dir}/${name.toString('latin1')}`, 'name is not valid UTF-8', err);
    }
  });
}
