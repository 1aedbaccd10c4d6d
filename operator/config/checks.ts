// Value checks shared by the config builder. Each returns why a value is unusable, or undefined.
import type { Check } from './fields.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const GCS_BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
const KMS_KEY_VERSION = /^gcpkms:\/\/projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/\d+$/;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const nonEmpty: Check = (v) => (v.trim() === '' ? 'must not be empty' : undefined);

export const dnsLabel: Check = (v) =>
  DNS_LABEL.test(v) ? undefined : 'must be a DNS label (lower-case letters, digits and "-", at most 63)';

export const dnsSubdomain: Check = (v) =>
  v.length <= 253 && v.split('.').every((part) => DNS_LABEL.test(part))
    ? undefined
    : 'must be a DNS subdomain (lower-case letters, digits, "-" and ".")';

export const absolutePath: Check = (v) => (v.startsWith('/') ? undefined : 'must be an absolute path');

export const httpUrl: Check = (v) => {
  const url = URL.parse(v);
  return url && (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== ''
    ? undefined
    : 'must be an http(s) URL';
};

/** An API endpoint: a URL, or a bare `host[:port]` as the Google client libraries accept. */
export const endpoint: Check = (v) =>
  httpUrl(v.includes('://') ? v : `https://${v}`) === undefined ? undefined : 'must be an http(s) URL or host[:port]';

export const absoluteUri: Check = (v) =>
  /^[a-z][a-z0-9+.-]*:/i.test(v) && URL.canParse(v) ? undefined : 'must be an absolute URI';

export const kmsKeyVersion: Check = (v) =>
  KMS_KEY_VERSION.test(v)
    ? undefined
    : 'must name a key version: gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N';

export const logLevel: Check = (v) =>
  (LOG_LEVELS as readonly string[]).includes(v) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`;

/**
 * An allowed storage prefix: `gs://bucket/[path/]` or `file:///dir/`. It must end in "/" so
 * that `gs://b/models/` does not also admit `gs://b/models-old/…`.
 */
export const storagePrefix: Check = (v) => {
  if (!v.endsWith('/')) return 'must end with "/"';
  if (v.startsWith('gs://')) {
    const [bucket, ...rest] = v.slice('gs://'.length).split('/');
    if (!GCS_BUCKET.test(bucket ?? '')) return 'must name a valid bucket: gs://bucket/prefix/';
    return badSegments(rest.slice(0, -1));
  }
  if (v.startsWith('file:///')) return badSegments(v.slice('file:///'.length).split('/').slice(0, -1));
  return 'must start with gs:// or file:///';
};

function badSegments(segments: readonly string[]): string | undefined {
  return segments.some((s) => s === '' || s === '.' || s === '..') ? 'must not contain empty, "." or ".." segments' : undefined;
}
