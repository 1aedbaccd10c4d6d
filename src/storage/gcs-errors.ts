// Converts @google-cloud/storage failures (ApiError with an HTTP status, or a socket error)
// into StorageError codes the operator can act on.
import { StorageError } from './errors.ts';

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN',
  'ENETUNREACH', 'EHOSTUNREACH', 'ERR_STREAM_PREMATURE_CLOSE',
  // The client's own check of a download against the object's CRC32C/MD5: bytes were damaged in transit.
  'CONTENT_DOWNLOAD_MISMATCH',
]);

export function fromGcsError(err: unknown, uri: string): StorageError {
  if (err instanceof StorageError) return err;
  const status = httpStatus(err);
  const [code, retryable] = status === undefined ? fromNetworkCode(errorCode(err)) : fromStatus(status);
  const reason = err instanceof Error ? err.message : String(err);
  return new StorageError(code, `${uri}: ${reason}`, { cause: err, retryable });
}

function fromStatus(status: number): [string, boolean] {
  if (status === 404) return ['NOT_FOUND', false];
  // We only ever send a precondition on create-only writes (ifGenerationMatch=0).
  if (status === 412) return ['ALREADY_EXISTS', false];
  if (status === 401 || status === 403) return ['PERMISSION_DENIED', false];
  if (status === 408 || status === 429 || status >= 500) return ['UNAVAILABLE', true];
  return [`HTTP_${status}`, false];
}

function fromNetworkCode(code: string): [string, boolean] {
  return NETWORK_CODES.has(code) ? ['UNAVAILABLE', true] : ['UNKNOWN', false];
}

function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } } | null;
  for (const v of [e?.code, e?.status, e?.response?.status]) {
    if (typeof v === 'number' && v >= 100 && v < 600) return v;
  }
  return undefined;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
