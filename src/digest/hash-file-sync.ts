// The worker threads' hash loop. Inside a worker, blocking is free, and reading and hashing
// on the same thread avoids a thread hand-off per chunk: measured ~15 % faster than async
// reads handed to the libuv pool (bench/README-digest.md). Never used on the calling thread.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DigestError } from './errors.ts';
import { CHUNK_SIZE, checkRegular, openError, openFlags, readError, returnBuffers, takeBuffer } from './open-rules.ts';
import type { BytesCallback, HashResult } from './types.ts';

export function hashFileSync(path: string, onBytes: BytesCallback, aborted: () => boolean): HashResult {
  let fd: number;
  try {
    fd = openSync(path, openFlags(false));
  } catch (err) {
    throw openError(path, err);
  }
  const buffer = takeBuffer();
  try {
    checkRegular(path, fstatSync(fd));
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      if (aborted()) throw new DigestError('ABORTED', 'digest aborted');
      const n = readSync(fd, buffer, 0, CHUNK_SIZE, null);
      if (n === 0) break;
      hash.update(n === CHUNK_SIZE ? buffer : buffer.subarray(0, n));
      size += n;
      onBytes(n);
    }
    return { sha256: hash.digest('hex'), size };
  } catch (err) {
    throw readError(path, err);
  } finally {
    returnBuffers([buffer]);
    closeSync(fd);
  }
}
