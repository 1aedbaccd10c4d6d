// SHA-256 of downloads on a thread of their own. The calling thread receives the bytes (Node's HTTP
// client runs there, and receiving is most of a download's CPU); when it also hashed them, the hash
// set the pace: the operator's measurement ran at 60 % of a plain read, slsa-ml pull at 48-50 % of a
// plain download (bench/pull.ts). So chunks are transferred (moved, not copied: each chunk a socket
// read allocated for itself) to a hashing thread in batches of about 1 MiB. For a pull, a batch is
// first written to the copy, several chunks a call, and only then moved to the thread: the copy
// holds exactly the bytes hashed, and nothing is copied in memory. A stream with BATCHES_IN_FLIGHT
// batches not yet written and hashed is paused, so memory stays flat whatever the model's size.
import { finished, type Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { DigestError } from './errors.ts';
import { BATCHES_IN_FLIGHT, BATCH_BYTES, WRITE_BYTES } from './stream-hash-sizes.ts';
import type { StreamHashReply, StreamHashRequest } from './stream-hash-protocol.ts';
import type { BytesCallback, CopyTarget, HashResult } from './types.ts';

const WORKER_URL = new URL('./stream-hash-worker.ts', import.meta.url);
/** The shared thread ends after this long without a stream (its memory goes back). */
const IDLE_MS = 10_000;

export interface StreamRead {
  readonly onBytes?: BytesCallback | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly copy?: CopyTarget | undefined;
}

let shared: StreamHasher | undefined;
let users = 0;
let idleTimer: NodeJS.Timeout | undefined;

/**
 * The process's hashing thread, started on first use and shared by every digest running at once
 * (the operator measures several models at a time): one thread hashes at about 1.4 GB/s, more than
 * one Node thread receives. `done()` when finished with it; it ends after IDLE_MS unused, never keeps
 * the process alive while idle, and one that failed is replaced on next use.
 */
export function useSharedHasher(): { hasher: StreamHasher; done: () => void } {
  clearTimeout(idleTimer);
  if (!shared || shared.failed) shared = new StreamHasher();
  const hasher = shared;
  users++;
  hasher.ref();
  let released = false;
  const done = (): void => {
    if (released) return;
    released = true;
    if (--users > 0) return;
    hasher.unref();
    idleTimer = setTimeout(() => {
      if (users > 0 || shared !== hasher) return;
      shared = undefined;
      void hasher.close();
    }, IDLE_MS);
    idleTimer.unref();
  };
  return { hasher, done };
}

/** A hashing thread for streams; close() ends it. */
export class StreamHasher {
  readonly #worker: Worker;
  readonly #jobs = new Map<number, StreamJob>();
  #next = 0;
  #closed = false;
  #failure: DigestError | undefined;

  constructor() {
    this.#worker = new Worker(WORKER_URL);
    this.#worker.on('message', (msg: StreamHashReply) => this.#onReply(msg));
    this.#worker.on('error', (err: Error) => this.#failAll(err));
    this.#worker.on('exit', (code) => this.#failAll(new Error(`exited with code ${code}`)));
  }

  /**
   * Hashes (and with `copy`, writes) what `stream` yields. Its chunks are moved to the hashing
   * thread: a chunk that owns its whole buffer is detached once hashed, so the stream must not reuse
   * it (Node's sockets and file streams allocate each chunk); any other chunk is copied. Resolves
   * once every byte is written and hashed; rejects once no write is in flight.
   */
  hash(stream: Readable, read: StreamRead = {}): Promise<HashResult> {
    if (this.#failure) {
      // Nobody will read it: its download must not stay open.
      stream.destroy();
      return Promise.reject(this.#failure);
    }
    const id = this.#next++;
    const job = new StreamJob(this, id, stream, read);
    this.#jobs.set(id, job);
    return job.start().finally(() => this.#jobs.delete(id));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#worker.terminate();
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Keeps the process alive while streams are hashed. */
  ref(): void {
    this.#worker.ref();
  }

  unref(): void {
    this.#worker.unref();
  }

  /** @internal */
  send(msg: StreamHashRequest, transfer: ArrayBuffer[]): void {
    this.#worker.postMessage(msg, transfer);
  }

  #onReply(msg: StreamHashReply): void {
    const job = this.#jobs.get(msg.stream);
    if (msg.type === 'hashed') job?.hashed();
    else job?.digested(msg.sha256);
  }

  #failAll(err: Error): void {
    if (this.#closed) return;
    this.#failure ??= new DigestError('WORKER_FAILED', `hashing thread failed: ${err.message}`, { cause: err });
    for (const job of this.#jobs.values()) job.fail(this.#failure);
  }
}

class StreamJob {
  readonly #hasher: StreamHasher;
  readonly #id: number;
  readonly #stream: Readable;
  readonly #read: StreamRead;
  #resolve: (r: HashResult) => void = () => undefined;
  #reject: (e: unknown) => void = () => undefined;
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  /** Batches read and not yet hashed (for a copy: not yet written, or written and not yet hashed). */
  #inFlight = 0;
  /** Batches waiting for their write (a copy only), oldest first. */
  readonly #toWrite: Uint8Array[][] = [];
  #writing = false;
  #size = 0;
  #ended = false;
  #endSent = false;
  #sha256: string | undefined;
  #error: unknown;
  #failed = false;
  #settled = false;
  #cleanup: () => void = () => undefined;

  constructor(hasher: StreamHasher, id: number, stream: Readable, read: StreamRead) {
    this.#hasher = hasher;
    this.#id = id;
    this.#stream = stream;
    this.#read = read;
  }

  start(): Promise<HashResult> {
    const promise = new Promise<HashResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const { signal } = this.#read;
    if (signal?.aborted) {
      this.fail(aborted(signal));
      return promise;
    }
    const onAbort = (): void => this.fail(aborted(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    const onData = (chunk: unknown): void => this.#onData(chunk);
    this.#stream.on('data', onData);
    const stopWatching = finished(this.#stream, (err) => (err ? this.fail(err) : this.#onEnd()));
    this.#cleanup = () => {
      signal?.removeEventListener('abort', onAbort);
      this.#stream.off('data', onData);
      stopWatching();
    };
    return promise;
  }

  #onData(chunk: unknown): void {
    if (this.#failed) return;
    if (!(chunk instanceof Uint8Array)) {
      this.fail(new DigestError('BAD_STREAM', 'stream yields text, not bytes: digests are defined over bytes'));
      return;
    }
    this.#size += chunk.length;
    try {
      this.#read.onBytes?.(chunk.length);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.#batch.push(this.#movable(chunk));
    this.#batchBytes += chunk.length;
    if (this.#batchBytes >= BATCH_BYTES) this.#flush();
  }

  /** The chunk itself when it owns its whole buffer (a socket read does), else a copy that does. */
  #movable(chunk: Uint8Array): Uint8Array {
    const owns = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    return owns && !this.#batch.some((c) => c.buffer === chunk.buffer) ? chunk : new Uint8Array(chunk);
  }

  /** The batch so far goes to be written (a copy) or straight to the thread. */
  #flush(): void {
    const chunks = this.#batch;
    if (chunks.length === 0) return;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#inFlight++;
    if (this.#inFlight >= BATCHES_IN_FLIGHT) this.#stream.pause();
    if (this.#read.copy) {
      this.#toWrite.push(chunks);
      this.#pump();
    } else {
      this.#toThread(chunks);
    }
  }

  /** Writes the oldest batch waiting, then hands it to the thread: one write at a time, in order. */
  #pump(): void {
    const copy = this.#read.copy;
    if (!copy || this.#writing || this.#failed) return;
    const chunks = this.#toWrite.shift();
    if (!chunks) {
      this.#sendEnd();
      return;
    }
    this.#writing = true;
    writeBatch(copy, chunks).then(
      () => {
        this.#writing = false;
        if (this.#failed) {
          this.#settle();
          return;
        }
        this.#toThread(chunks);
        this.#pump();
      },
      (err: unknown) => {
        this.#writing = false;
        this.fail(err);
        // Already failed (an abort while it wrote): it settles now that the write is over.
        this.#settle();
      },
    );
  }

  #toThread(chunks: Uint8Array[]): void {
    const msg: StreamHashRequest = { type: 'update', stream: this.#id, chunks };
    try {
      this.#hasher.send(msg, chunks.map((c) => c.buffer as ArrayBuffer));
    } catch {
      // A buffer its owner marked untransferable: the thread gets copies instead.
      try {
        this.#hasher.send(msg, []);
      } catch (err) {
        this.fail(err);
      }
    }
  }

  hashed(): void {
    this.#inFlight--;
    if (!this.#failed && this.#inFlight < BATCHES_IN_FLIGHT && this.#stream.isPaused()) this.#stream.resume();
    this.#settle();
  }

  #onEnd(): void {
    if (this.#failed) return;
    this.#ended = true;
    this.#flush();
    if (this.#read.copy) this.#pump();
    else this.#sendEnd();
  }

  /** The digest is asked for once the stream has ended and every batch has gone to the thread. */
  #sendEnd(): void {
    if (!this.#ended || this.#endSent || this.#writing || this.#toWrite.length > 0) return;
    this.#endSent = true;
    this.#hasher.send({ type: 'end', stream: this.#id }, []);
  }

  digested(sha256: string): void {
    if (this.#endSent) this.#sha256 = sha256;
    this.#settle();
  }

  fail(err: unknown): void {
    if (this.#failed || this.#settled) return;
    this.#failed = true;
    this.#error = err;
    this.#cleanup();
    this.#batch = [];
    this.#toWrite.length = 0;
    // Listeners are gone: an error the stream reports while it is torn down must not go unhandled.
    this.#stream.on('error', () => undefined);
    this.#stream.destroy();
    this.#hasher.send({ type: 'drop', stream: this.#id }, []);
    this.#settle();
  }

  /** Settles once no write is in flight: the caller closes the copy only after that. */
  #settle(): void {
    if (this.#settled || this.#writing) return;
    if (this.#failed) {
      this.#settled = true;
      this.#reject(this.#error);
      return;
    }
    if (this.#sha256 === undefined || this.#inFlight > 0) return;
    this.#settled = true;
    this.#cleanup();
    this.#resolve({ sha256: this.#sha256, size: this.#size });
  }
}

/** Several chunks a call where the target can (CopyTarget.writev), each call once the last is done. */
async function writeBatch(copy: CopyTarget, chunks: readonly Uint8Array[]): Promise<void> {
  if (!copy.writev) {
    for (const chunk of chunks) await copy.write(chunk);
    return;
  }
  let group: Uint8Array[] = [];
  let bytes = 0;
  for (const chunk of chunks) {
    group.push(chunk);
    bytes += chunk.length;
    if (bytes >= WRITE_BYTES) {
      await copy.writev(group);
      group = [];
      bytes = 0;
    }
  }
  if (group.length > 0) await copy.writev(group);
}

function aborted(signal: AbortSignal | undefined): DigestError {
  return new DigestError('ABORTED', 'digest aborted', { cause: signal?.reason });
}
