// Measures a model on local disk: a file by its sha256, a directory by its model-signing
// root digest, hashing files in worker threads when more than one may run at once.
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { concurrencyOf, digestFiles } from './digest-files.ts';
import type { HashOne } from './digest-files.ts';
import { DigestError, throwIfAborted } from './errors.ts';
import { listLocalTree } from './local-tree.ts';
import type { LocalFile } from './local-tree.ts';
import { ProgressTracker } from './progress.ts';
import { hashFile } from './sha256.ts';
import type { DigestOptions, ModelDigest } from './types.ts';
import { WorkerPool } from './worker-pool.ts';

export async function digestLocalPath(path: string, opts: DigestOptions = {}): Promise<ModelDigest> {
  throwIfAborted(opts.signal);
  const concurrency = concurrencyOf(opts);
  // The path the user names may be a symlink (e.g. a Hugging Face snapshot entry); nothing
  // inside a directory model may.
  const st = await statRoot(path);
  if (st.isFile()) return digestSingleFile(path, st.size, opts);
  if (!st.isDirectory()) {
    throw new DigestError('SPECIAL_FILE', `${path}: is neither a regular file nor a directory`);
  }
  const files = await listLocalTree(path);
  const pool = usesWorkers(files, concurrency) ? new WorkerPool(Math.min(concurrency, files.length)) : undefined;
  const hashOne: HashOne<LocalFile> = pool
    ? (f, onBytes, signal) => pool.hash(f.absPath, onBytes, signal)
    : (f, onBytes, signal) => hashFile(f.absPath, { onBytes, signal });
  try {
    return await digestFiles(path, files, hashOne, opts);
  } finally {
    await pool?.close();
  }
}

/**
 * Threads cost tens of milliseconds to start; below this much data one thread hashes
 * faster than several can start.
 */
export const WORKER_THRESHOLD_BYTES = 64 << 20;

function usesWorkers(files: readonly LocalFile[], concurrency: number): boolean {
  const total = files.reduce((n, f) => n + f.size, 0);
  return concurrency > 1 && files.length > 1 && total >= WORKER_THRESHOLD_BYTES;
}

async function digestSingleFile(path: string, size: number, opts: DigestOptions): Promise<ModelDigest> {
  const tracker = new ProgressTracker(size, 1, opts.onProgress);
  tracker.start();
  const r = await hashFile(path, { followSymlink: true, signal: opts.signal, onBytes: (n) => tracker.addBytes(n) });
  tracker.fileDone();
  throwIfAborted(opts.signal);
  return { kind: 'file', sha256: r.sha256, fileCount: 1, totalBytes: r.size };
}

async function statRoot(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DigestError('NOT_FOUND', `${path}: no such file or directory`, { cause: err });
    }
    throw new DigestError('READ_FAILED', `${path}: cannot stat: ${(err as Error).message}`, { cause: err });
  }
}
