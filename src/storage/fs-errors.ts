import { StorageError } from './errors.ts';

const TRANSIENT = new Set(['EAGAIN', 'EBUSY', 'EIO', 'EMFILE', 'ENFILE', 'ENOSPC', 'ETIMEDOUT', 'EINTR']);

/** Maps a Node fs error to a StorageError for `uri`. */
export function fromFsError(err: unknown, uri: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const reason = (err as Error).message;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new StorageError('NOT_FOUND', `${uri}: not found`, { cause: err });
  if (code === 'EEXIST') return new StorageError('ALREADY_EXISTS', `${uri}: already exists`, { cause: err });
  if (code === 'ELOOP') return unsupported(uri, 'is a symlink', err);
  if (code === 'EACCES' || code === 'EPERM') return new StorageError('PERMISSION_DENIED', `${uri}: ${reason}`, { cause: err });
  if (TRANSIENT.has(code)) return new StorageError('UNAVAILABLE', `${uri}: ${reason}`, { cause: err, retryable: true });
  return new StorageError('UNKNOWN', `${uri}: ${reason}`, { cause: err });
}

export function unsupported(uri: string, what: string, cause?: unknown): StorageError {
  return new StorageError('UNSUPPORTED_OBJECT', `${uri}: ${what}; only regular files are objects`, { cause });
}
