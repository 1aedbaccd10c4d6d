// The `subjects` input: base64 of `sha256sum` output for the files of ONE model, paths relative
// to the model's parent folder — `pytorch_model.pth`, or `saved_model/saved_model.pb`,
// `saved_model/variables/…` for a directory. The caller's job computed these digests: the
// provenance job never sees the model unless it reads it back from GCS (gcs-uri).
import { compareModelPaths, isIgnored, rootDigest } from '../digest/index.ts';
import type { MeasuredModel } from '../provenance/index.ts';
import { ActionError } from './errors.ts';

export interface ModelFiles {
  /** The file's or the directory's name. */
  readonly name: string;
  readonly measured: MeasuredModel;
}

const MAX_INPUT_BYTES = 16 * 1024 * 1024;
const LINE = /^([0-9a-fA-F]{64}) [ *](.+)$/;

export function parseSubjects(base64: string): ModelFiles {
  const entries = lines(decode(base64)).map(parseLine);
  if (entries.length === 0) throw bad('lists no files (expected base64 of `sha256sum` output)');
  const seen = new Set<string>();
  for (const { path } of entries) {
    if (seen.has(path)) throw bad(`lists ${path} twice`);
    seen.add(path);
  }
  const tops = [...new Set(entries.map((e) => e.path.split('/', 1)[0] ?? ''))];
  if (tops.length > 1) throw bad(`names ${tops.length} models (${tops.slice(0, 3).join(', ')}…); give the files of one model per call`);
  const name = tops[0] ?? '';
  const only = entries[0];
  if (entries.length === 1 && only && only.path === name) {
    return { name, measured: { kind: 'file', sha256: only.sha256, fileCount: 1 } };
  }
  if (entries.some((e) => e.path === name)) throw bad(`lists ${name} both as a file and as a directory`);
  return { name, measured: directory(entries.map((e) => ({ path: e.path.slice(name.length + 1), sha256: e.sha256 }))) };
}

function directory(all: Array<{ path: string; sha256: string }>): MeasuredModel {
  // The same files model_signing and `slsa-ml verify` count: top-level .git* paths never do.
  const files = all.filter((f) => !isIgnored(f.path)).sort((a, b) => compareModelPaths(a.path, b.path));
  if (files.length === 0) throw bad('lists a directory with no files that count (only .git* paths)');
  return { kind: 'directory', sha256: rootDigest(files), fileCount: files.length, files };
}

function decode(base64: string): string {
  const compact = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw bad('is not base64 (encode it with `base64 -w0`)');
  if (compact.length * 0.75 > MAX_INPUT_BYTES) throw bad(`is larger than ${MAX_INPUT_BYTES} bytes`);
  return Buffer.from(compact, 'base64').toString('utf8');
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
}

function parseLine(line: string, i: number): { path: string; sha256: string } {
  // sha256sum escapes a name holding a newline or backslash with a leading backslash.
  if (line.startsWith('\\')) throw bad(`line ${i + 1}: escaped file names are not supported`);
  const match = LINE.exec(line);
  if (!match) throw bad(`line ${i + 1}: expected "<64 hex digits>  <path>", got ${JSON.stringify(line.slice(0, 80))}`);
  const path = (match[2] as string).replace(/^(\.\/)+/, '');
  if (path.startsWith('/') || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw bad(`line ${i + 1}: path ${JSON.stringify(path)} must be relative, without empty, "." or ".." segments`);
  }
  return { path, sha256: (match[1] as string).toLowerCase() };
}

function bad(reason: string): ActionError {
  return new ActionError('BAD_INPUT', `subjects: ${reason}`);
}
