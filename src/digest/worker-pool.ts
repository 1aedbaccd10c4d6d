// A fixed set of hashing threads for one digest call; each thread hashes one file at a time.
import { Worker } from 'node:worker_threads';
import { DigestError, throwIfAborted } from './errors.ts';
import type { BytesCallback, HashResult } from './types.ts';
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts';

const WORKER_URL = new URL('./hash-worker.ts', import.meta.url);

export class WorkerPool {
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #waiters: Array<(w: Worker) => void> = [];
  #closed = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.#idle.push(this.#spawn());
  }

  async hash(path: string, onBytes: BytesCallback, signal: AbortSignal): Promise<HashResult> {
    throwIfAborted(signal);
    const worker = await this.#acquire();
    let crashed = false;
    try {
      throwIfAborted(signal);
      return await runOn(worker, path, onBytes, signal);
    } catch (err) {
      crashed = err instanceof DigestError && err.code === 'WORKER_FAILED';
      throw err;
    } finally {
      // A crashed thread never answers again; whoever waits next gets a fresh one.
      this.#release(crashed && !this.#closed ? this.#spawn() : worker);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#all.map((w) => w.terminate()));
  }

  async #acquire(): Promise<Worker> {
    const worker = this.#idle.pop();
    if (worker) return worker;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_URL);
    this.#all.push(worker);
    return worker;
  }

  #release(worker: Worker): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(worker);
    else this.#idle.push(worker);
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
    const onMessage = (msg: WorkerReply): void => {
      if (msg.type === 'bytes') {
        if (callbackFailure === undefined) {
          try {
            onBytes(msg.bytes);
          } catch (error) {
            callbackFailure = error instanceof Error ? error : new Error(String(error));
            send(worker, { type: 'abort' });
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
    const onAbort = (): void => send(worker, { type: 'abort' });
    worker.on('message', onMessage);
    worker.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    send(worker, { type: 'hash', path });
  });
}

function send(worker: Worker, msg: WorkerRequest): void {
  worker.postMessage(msg);
}
