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

  constructor(code: StorageErrorCode | (string & {}), message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}
