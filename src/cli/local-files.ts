// Files the user names on the command line (keys, trusted roots, TaskRuns), read with a size
// limit and an error that names the flag, the path and what went wrong.
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import { UsageError } from './errors.ts';
import type { CliIo } from './io.ts';

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

export async function readUserFile(flag: string, path: string, io: CliIo, maxBytes = DEFAULT_MAX_BYTES): Promise<Buffer> {
  const abs = resolve(io.cwd, path);
  try {
    const st = await stat(abs);
    if (st.isDirectory()) throw new UsageError(`${flag} ${path}: is a directory, not a file`);
    if (st.size > maxBytes) throw new UsageError(`${flag} ${path}: larger than ${maxBytes} bytes`);
    return await readFile(abs);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${flag} ${path}: ${describeFsError(err)}`, { cause: err });
  }
}

export function describeFsError(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return (err as Error).message;
  }
}
