// Streaming SHA-256 with bounded memory: at most two fixed chunks per file are in flight,
// so a 4 GiB weight file costs 2 MiB of buffer whatever its size.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DigestError, throwIfAborted } from './errors.ts';
import { CHUNK_SIZE, checkRegular, openError, openFlags, readError, returnBuffers, takeBuffer } from './open-rules.ts';
import type { BytesCallback, CopyTarget, HashResult } from './types.ts';

export async function sha256Stream(stream: NodeJS.ReadableStream | Readable): Promise<string> {
  return (await hashStream(stream)).sha256;
}

export async function sha256File(path: string): Promise<string> {
  return (await hashFile(path, { followSymlink: true })).sha256;
}

/** `copy`: each chunk is written there before it is hashed, and the next read waits for the write. */
export async function hashStream(
  stream: NodeJS.ReadableStream | Readable,
  onBytes?: BytesCallback,
  signal?: AbortSignal,
  copy?: CopyTarget,
): Promise<HashResult> {
  throwIfAborted(signal);
  const hash = createHash('sha256');
  let size = 0;
  // A stalled download never yields another chunk; destroying the stream wakes the loop.
  const onAbort = (): void => destroy(stream, new DigestError('ABORTED', 'digest aborted', { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<unknown>) {
      throwIfAborted(signal);
      if (!(chunk instanceof Uint8Array)) {
        throw new DigestError('BAD_STREAM', 'stream yields text, not bytes: digests are defined over bytes');
      }
      if (copy) await copy.write(chunk);
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(chunk.length);
    }
  } catch (err) {
    destroy(stream);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return { sha256: hash.digest('hex'), size };
}

function destroy(stream: NodeJS.ReadableStream | Readable, err?: Error): void {
  if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy(err);
}

export interface HashFileOptions {
  onBytes?: BytesCallback;
  signal?: AbortSignal;
  /** Only the path a user names directly may be a symlink; files inside a model never. */
  followSymlink?: boolean;
}

export async function hashFile(path: string, opts: HashFileOptions = {}): Promise<HashResult> {
  throwIfAborted(opts.signal);
  const fh = await openRegularFile(path, opts.followSymlink ?? false);
  try {
    return await hashOpenFile(fh, opts);
  } finally {
    await fh.close();
  }
}

async function openRegularFile(path: string, followSymlink: boolean): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(path, openFlags(followSymlink));
  } catch (err) {
    throw openError(path, err);
  }
  try {
    checkRegular(path, await fh.stat());
    return fh;
  } catch (err) {
    await fh.close();
    throw readError(path, err);
  }
}

// Double buffering: the next read runs in the libuv pool while this thread hashes the
// previous chunk, so page-cache copies overlap with SHA-256 without blocking this thread.
async function hashOpenFile(fh: FileHandle, opts: HashFileOptions): Promise<HashResult> {
  const hash = createHash('sha256');
  const buffers = [takeBuffer(), takeBuffer()] as const;
  let spare = buffers[1];
  let size = 0;
  let pending = fh.read(buffers[0], 0, CHUNK_SIZE, null);
  try {
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      throwIfAborted(opts.signal);
      pending = fh.read(spare, 0, CHUNK_SIZE, null);
      // If hashing or the progress callback throws, the read in flight must not become an
      // unhandled rejection (and its buffer must not be reused before it lands).
      pending.catch(() => undefined);
      spare = buffer;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
      opts.onBytes?.(bytesRead);
    }
  } catch (err) {
    await pending.catch(() => undefined);
    throw err;
  } finally {
    returnBuffers(buffers);
  }
  return { sha256: hash.digest('hex'), size };
}
