// The one place storage URIs are parsed. Strict on purpose: a URI decides where provenance
// is written and which objects count as the model, so anything ambiguous is refused.
import { pathToFileURL } from 'node:url';
import { StorageError } from './errors.ts';

export type StorageLocation =
  | { scheme: 'gs'; bucket: string; key: string; generation?: string }
  | { scheme: 'file'; path: string };

export function parseStorageUri(uri: string): StorageLocation {
  if (uri.startsWith('gs://')) return parseGs(uri);
  if (uri.startsWith('file:')) return parseFile(uri);
  throw invalid(uri, 'only gs://bucket/key and file:///absolute/path are supported');
}

export function formatStorageUri(loc: StorageLocation): string {
  if (loc.scheme === 'file') return pathToFileURL(loc.path).href;
  return `gs://${loc.bucket}/${loc.key}${loc.generation === undefined ? '' : `#${loc.generation}`}`;
}

/** The object's name inside its namespace: the GCS key, or the absolute file path. */
export function objectName(loc: StorageLocation): string {
  return loc.scheme === 'gs' ? loc.key : loc.path;
}

export function invalid(uri: string, reason: string): StorageError {
  return new StorageError('INVALID_URI', `invalid storage URI ${JSON.stringify(uri)}: ${reason}`);
}

// gsutil's `gs://b/o#1712345` names one generation of an object.
function parseGs(uri: string): StorageLocation {
  const m = /^gs:\/\/([^/#]*)(?:\/([^]*?))?(?:#(\d+))?$/.exec(uri);
  if (!m) throw invalid(uri, 'expected gs://bucket/key');
  const [, bucket = '', key = '', generation] = m;
  checkBucket(uri, bucket);
  checkGsKey(uri, key);
  if (generation !== undefined && key === '') throw invalid(uri, 'a generation needs an object name');
  return generation === undefined ? { scheme: 'gs', bucket, key } : { scheme: 'gs', bucket, key, generation };
}

// https://cloud.google.com/storage/docs/buckets#naming
function checkBucket(uri: string, bucket: string): void {
  const parts = bucket.split('.');
  const ok =
    /^[a-z0-9][a-z0-9._-]*[a-z0-9]$/.test(bucket) &&
    bucket.length >= 3 &&
    bucket.length <= (parts.length > 1 ? 222 : 63) &&
    parts.every((p) => p.length > 0 && p.length <= 63) &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(bucket) &&
    !bucket.startsWith('goog') &&
    !bucket.includes('google');
  if (!ok) throw invalid(uri, `"${bucket}" is not a valid bucket name`);
}

// https://cloud.google.com/storage/docs/objects#naming, plus: no "." or ".." segments, which
// GCS allows but which would let a prefix check and a filesystem disagree about a path.
function checkGsKey(uri: string, key: string): void {
  if (Buffer.byteLength(key, 'utf8') > 1024) throw invalid(uri, 'object name longer than 1024 bytes');
  if (/[\r\n\0]/.test(key)) throw invalid(uri, 'object name contains CR, LF or NUL');
  if (key.split('/').some((s) => s === '.' || s === '..')) throw invalid(uri, 'object name has a "." or ".." segment');
}

function parseFile(uri: string): StorageLocation {
  if (!uri.startsWith('file:///')) throw invalid(uri, 'expected file:///absolute/path (no host)');
  if (/[?#]/.test(uri)) throw invalid(uri, 'query and fragment are not allowed; percent-encode "?" and "#"');
  const raw = uri.slice('file://'.length).split('/').slice(1);
  const segments = raw.map((s, i) => decodeSegment(uri, s, i === raw.length - 1));
  return { scheme: 'file', path: `/${segments.join('/')}` };
}

function decodeSegment(uri: string, raw: string, last: boolean): string {
  let s: string;
  try {
    s = decodeURIComponent(raw);
  } catch (err) {
    throw new StorageError('INVALID_URI', `invalid storage URI ${JSON.stringify(uri)}: bad percent-encoding`, { cause: err });
  }
  if (s === '' && !last) throw invalid(uri, 'empty path segment ("//")');
  if (s === '.' || s === '..') throw invalid(uri, 'path has a "." or ".." segment');
  if (s.includes('/') || s.includes('\0')) throw invalid(uri, 'a segment decodes to "/" or NUL');
  return s;
}
