// Hashing lanes for one digest call: the calling thread is one lane (it would otherwise sit
// idle) and each further lane is a worker thread, because SHA-256 in Node runs on the thread
// that calls it. Each lane hashes one file at a time.
import { Worker } from 'node:worker_threads';
import { DigestError, throwIfAborted } from './errors.ts';
import { hashFile } from './sha256.ts';
import type { BytesCallback, HashResult } from './types.ts';
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts';

const WORKER_URL = new URL('./hash-worker.ts', import.meta.url);

type Lane = { kind: 'inline' } | { kind: 'worker'; worker: Worker };

export class WorkerPool {
  readonly #idle: Lane[] = [{ kind: 'inline' }];
  readonly #workers: Worker[] = [];
  readonly #waiters: Array<(lane: Lane) => void> = [];
  #closed = false;

  /** `lanes` in total: the calling thread plus `lanes - 1` worker threads. */
  constructor(lanes: number) {
    for (let i = 1; i < lanes; i++) this.#idle.push(this.#spawn());
  }

  async hash(path: string, onBytes: BytesCallback, signal: AbortSignal): Promise<HashResult> {
    throwIfAborted(signal);
    const lane = await this.#acquire();
    let crashed = false;
    try {
      throwIfAborted(signal);
      if (lane.kind === 'inline') return await hashFile(path, { onBytes, signal });
      return await runOn(lane.worker, path, onBytes, signal);
    } catch (err) {
      crashed = err instanceof DigestError && err.code === 'WORKER_FAILED';
      throw err;
    } finally {
      // A crashed thread never answers again; whoever waits next gets a fresh one.
      this.#release(crashed && !this.#closed ? this.#spawn() : lane);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  async #acquire(): Promise<Lane> {
    const lane = this.#idle.pop();
    if (lane) return lane;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #spawn(): Lane {
    const worker = new Worker(WORKER_URL);
    this.#workers.push(worker);
    return { kind: 'worker', worker };
  }

  #release(lane: Lane): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(lane);
    else this.#idle.push(lane);
  }
}

function runOn(worker: Worker, path: string, onBytes: BytesCallback, signal: AbortSignal): Promise<HashResult> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    // A throwing progress callback fails the hash, but only after the thread has answered,
    // so the thread is idle (and in step with us) when it goes back to the pool.
    let callbackFailure: Error | undefined;
    const abortFlag = new SharedArrayBuffer(4);
    const requestAbort = (): void => void Atomics.store(new Int32Array(abortFlag), 0, 1);
    const onMessage = (msg: WorkerReply): void => {
      if (msg.type === 'bytes') {
        if (callbackFailure === undefined) {
          try {
            onBytes(msg.bytes);
          } catch (error) {
            callbackFailure = error instanceof Error ? error : new Error(String(error));
            requestAbort();
          }
        }
        return;
      }
      cleanup();
      if (callbackFailure !== undefined) reject(callbackFailure);
      else if (msg.type === 'done') resolve({ sha256: msg.sha256, size: msg.size });
      else reject(new DigestError(msg.code, msg.message));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new DigestError('WORKER_FAILED', `hashing thread failed on ${path}: ${err.message}`, { cause: err }));
    };
    const onAbort = requestAbort;
    worker.on('message', onMessage);
    worker.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    send(worker, { type: 'hash', path, abortFlag });
  });
}

function send(worker: Worker, msg: WorkerRequest): void {
  worker.postMessage(msg);
}
