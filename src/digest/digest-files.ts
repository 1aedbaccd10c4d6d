// The shared core of directory digests, whatever the files live on: validate the layout,
// hash with bounded concurrency, chain the digests in canonical order.
import { DigestError, throwIfAborted } from './errors.ts';
import { mapLimited } from './map-limited.ts';
import { checkNoFileDirConflicts } from './model-path.ts';
import { ProgressTracker } from './progress.ts';
import { rootDigest, sortModelFiles } from './root-digest.ts';
import { DEFAULT_CONCURRENCY } from './types.ts';
import type { BytesCallback, DigestOptions, FileDigest, HashResult, ModelDigest } from './types.ts';

export interface ModelFile {
  path: string;
  size: number;
}

export type HashOne<F extends ModelFile> = (file: F, onBytes: BytesCallback, signal: AbortSignal) => Promise<HashResult>;

export function concurrencyOf(opts: DigestOptions): number {
  const n = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(n) || n < 1) {
    throw new DigestError('BAD_OPTION', `concurrency must be a positive integer, got ${String(n)}`);
  }
  return n;
}

export async function digestFiles<F extends ModelFile>(
  where: string,
  files: readonly F[],
  hashOne: HashOne<F>,
  opts: DigestOptions,
): Promise<ModelDigest> {
  if (files.length === 0) {
    throw new DigestError('EMPTY_MODEL', `${where}: no files to digest (a directory model needs at least one file outside .git/.github/.gitignore/.gitattributes)`);
  }
  checkNoFileDirConflicts(files.map((f) => f.path), where);
  const tracker = new ProgressTracker(sum(files.map((f) => f.size)), files.length, opts.onProgress);
  tracker.start();
  // Largest first keeps every lane busy until the end; the order of the chain is separate.
  const schedule = [...files].sort((a, b) => b.size - a.size);
  const hashed = await mapLimited(
    schedule,
    concurrencyOf(opts),
    async (file, signal): Promise<FileDigest> => {
      const r = await hashOne(file, (n) => tracker.addBytes(n), signal);
      tracker.fileDone();
      return { path: file.path, sha256: r.sha256, size: r.size };
    },
    opts.signal,
  );
  // Work that finished while the caller was aborting still counts as aborted.
  throwIfAborted(opts.signal);
  const sorted = sortModelFiles(hashed);
  return {
    kind: 'directory',
    sha256: rootDigest(sorted),
    fileCount: sorted.length,
    totalBytes: sum(sorted.map((f) => f.size)),
    files: sorted,
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
