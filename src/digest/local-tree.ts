// Walks a local model directory into the list of files model-signing would hash. Symlinks
// and special files are refused rather than followed or skipped: a model that only verifies
// on the machine that resolved its links proves nothing.
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DigestError } from './errors.ts';
import { isIgnoredTopLevel } from './model-path.ts';

export interface LocalFile {
  /** POSIX path relative to the model root. */
  path: string;
  absPath: string;
  size: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function listLocalTree(root: string): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  await walk(root, '', files);
  return files;
}

async function walk(dir: string, relDir: string, out: LocalFile[]): Promise<void> {
  for (const name of await readNames(dir)) {
    if (relDir === '' && isIgnoredTopLevel(name)) continue;
    const absPath = join(dir, name);
    const path = relDir === '' ? name : `${relDir}/${name}`;
    const st = await lstatOrFail(absPath);
    if (st.isDirectory()) {
      await walk(absPath, path, out);
    } else if (st.isFile()) {
      out.push({ path, absPath, size: st.size });
    } else {
      throw refusal(absPath, st);
    }
  }
}

async function readNames(dir: string): Promise<string[]> {
  let raw: Buffer[];
  try {
    raw = await readdir(dir, { encoding: 'buffer' });
  } catch (err) {
    throw new DigestError('READ_FAILED', `${dir}: cannot list directory: ${(err as Error).message}`, { cause: err });
  }
  return raw.map((name) => {
    try {
      return utf8.decode(name);
    } catch (err) {
      // model-signing records names as text; a non-UTF-8 name has no agreed spelling.
      throw new DigestError('UNREPRESENTABLE_PATH', `${dir}: entry ${JSON.stringify(name.toString('latin1'))} is not valid UTF-8`, { cause: err });
    }
  });
}

async function lstatOrFail(path: string): Promise<Stats> {
  try {
    return await lstat(path);
  } catch (err) {
    throw new DigestError('READ_FAILED', `${path}: cannot stat: ${(err as Error).message}`, { cause: err });
  }
}

function refusal(path: string, st: Stats): DigestError {
  if (st.isSymbolicLink()) {
    return new DigestError('SYMLINK', `${path}: is a symlink; symlinks in a model are refused, not followed`);
  }
  const kind = st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device or other special file';
  return new DigestError('SPECIAL_FILE', `${path}: is ${kind}; only regular files can be part of a model`);
}
