// How a file inside a model is opened, shared by the async (calling thread) and sync
// (worker thread) hash loops: never through a final symlink, never blocking on a FIFO, and
// the type checked on the open descriptor, so a file swapped after the walk cannot slip in.
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { DigestError } from './errors.ts';

/** 1 MiB reads: per-read overhead vanishes, the buffers stay cache-friendly (bench/digest.ts). */
export const CHUNK_SIZE = 1 << 20;

export function openFlags(followSymlink: boolean): number {
  return constants.O_RDONLY | constants.O_NONBLOCK | (followSymlink ? 0 : constants.O_NOFOLLOW);
}

/** Throws unless the opened descriptor is a regular file. */
export function checkRegular(path: string, st: Stats): void {
  if (!st.isFile()) {
    throw new DigestError('NOT_REGULAR_FILE', `${path}: not a regular file (directories, FIFOs, sockets and devices cannot be hashed)`);
  }
}

export function openError(path: string, err: unknown): DigestError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') {
    return new DigestError('SYMLINK', `${path}: is a symlink; symlinks are refused, not followed`, { cause: err });
  }
  if (code === 'ENOENT') return new DigestError('NOT_FOUND', `${path}: no such file`, { cause: err });
  return new DigestError('READ_FAILED', `${path}: cannot open: ${(err as Error).message}`, { cause: err });
}

export function readError(path: string, err: unknown): DigestError {
  if (err instanceof DigestError) return err;
  return new DigestError('READ_FAILED', `${path}: read failed: ${(err as Error).message}`, { cause: err });
}

// Reused across files (per thread): fresh 1 MiB allocations would page-fault their way in
// for every file of a many-file model.
const spareBuffers: Buffer[] = [];

export function takeBuffer(): Buffer {
  return spareBuffers.pop() ?? Buffer.allocUnsafeSlow(CHUNK_SIZE);
}

export function returnBuffers(buffers: readonly Buffer[]): void {
  spareBuffers.push(...buffers);
}
