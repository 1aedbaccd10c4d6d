// Combines per-file digests into the model-signing v1.0 root digest: sha256 over the raw
// 32-byte file digests, concatenated in canonical path order (what model_signing puts in
// its in-toto subject for a directory).
import { createHash } from 'node:crypto';
import { compareSegments, toSegments } from './model-path.ts';
import type { FileDigest } from './types.ts';

export function sortModelFiles<T extends { path: string }>(files: readonly T[]): T[] {
  const keyed = files.map((f) => ({ f, key: toSegments(f.path) }));
  keyed.sort((x, y) => compareSegments(x.key, y.key));
  return keyed.map((k) => k.f);
}

export function rootDigest(sortedFiles: ReadonlyArray<Pick<FileDigest, 'sha256'>>): string {
  const hash = createHash('sha256');
  for (const f of sortedFiles) hash.update(Buffer.from(f.sha256, 'hex'));
  return hash.digest('hex');
}
