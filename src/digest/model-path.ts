// The layout rules of an OpenSSF model-signing v1.0 directory model, as model_signing 1.1.1
// applies them by default: which files count and in which order their digests are chained.
import { DigestError } from './errors.ts';

/**
 * model_signing's default `ignore_git_paths`: these names, at the top level only, are
 * skipped with everything below them (`Path.is_relative_to`, so `.github2` still counts).
 */
const IGNORED_TOP_LEVEL = new Set(['.git', '.gitattributes', '.github', '.gitignore']);

export function isIgnoredTopLevel(name: string): boolean {
  return IGNORED_TOP_LEVEL.has(name);
}

/** True when a model-relative POSIX path is excluded from the digest. */
export function isIgnored(relativePath: string): boolean {
  const first = relativePath.split('/', 1)[0] ?? '';
  return isIgnoredTopLevel(first);
}

/**
 * Refuses relative paths that no directory on disk can hold, so every digest we compute can
 * be recomputed by model_signing over a downloaded copy (object stores allow `a//b`, `./x`).
 */
export function checkRelativePath(relativePath: string, where: string): void {
  const bad = relativePath.split('/').find((s) => s === '' || s === '.' || s === '..');
  if (bad !== undefined) {
    const what = bad === '' ? 'an empty segment' : `a "${bad}" segment`;
    throw new DigestError('UNREPRESENTABLE_PATH', `${where}: path "${relativePath}" has ${what}; no directory can hold it`);
  }
}

/**
 * Orders paths as Python's PurePosixPath does: segment by segment, each segment by code
 * point. UTF-8 byte order equals code point order (JS `<` compares UTF-16 units, which
 * differs above U+FFFF). So `a/b` < `a-b` and `variables/x` < `variables.index`.
 */
export function compareModelPaths(a: string, b: string): number {
  return compareSegments(toSegments(a), toSegments(b));
}

export function toSegments(path: string): Buffer[] {
  return path.split('/').map((s) => Buffer.from(s, 'utf8'));
}

export function compareSegments(a: readonly Buffer[], b: readonly Buffer[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = Buffer.compare(a[i] as Buffer, b[i] as Buffer);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** An object store can hold both `x` and `x/y`; a directory cannot, so neither can a model. */
export function checkNoFileDirConflicts(paths: readonly string[], where: string): void {
  const all = new Set(paths);
  for (const p of paths) {
    for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
      const parent = p.slice(0, i);
      if (all.has(parent)) {
        throw new DigestError('PATH_CONFLICT', `${where}: "${parent}" is both a file and a directory ("${p}")`);
      }
    }
  }
}
