export type StorageErrorCode =
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'TOO_LARGE'
  | 'UNAVAILABLE'
  | 'INVALID_URI'
  | 'PERMISSION_DENIED'
  | 'UNSUPPORTED_OBJECT'
  | 'UNKNOWN';

/** A storage failure; `retryable` tells a transient fault (retry with backoff) from a final one. */
export class StorageError extends Error {
  readonly code: StorageErrorCode | (string & {});
  readonly retryable: boolean;
  /** How long the service asked us to wait before another attempt (its Retry-After), if it said. */
  readonly retryAfterMs: number | undefined;

  constructor(code: StorageErrorCode | (string & {}), message: string, options?: { cause?: unknown; retryable?: boolean; retryAfterMs?: number }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
    this.retryable = options?.retryable ?? false;
    this.retryAfterMs = options?.retryAfterMs;
  }
}
