// A work queue with controller-runtime's guarantees: a key is queued at most once, is never
// handed to two workers at once (a key added while in flight runs again after it finishes),
// and retries back off per key.
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

export type Handler = (key: string) => Promise<'done' | 'retry'>;

export class WorkQueue {
  readonly #policy: BackoffPolicy;
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #inFlight = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #onDepth: (depth: number) => void;
  readonly #onError: (key: string, err: unknown) => void;
  #wake: (() => void) | undefined;
  #shuttingDown = false;

  constructor(policy: BackoffPolicy, hooks: { onDepth?: (depth: number) => void; onError?: (key: string, err: unknown) => void } = {}) {
    this.#policy = policy;
    this.#onDepth = hooks.onDepth ?? (() => undefined);
    this.#onError = hooks.onError ?? (() => undefined);
  }

  add(key: string): void {
    if (this.#shuttingDown) return;
    if (this.#inFlight.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    // Backing off: a watch event or a relist must not cut the wait short; the timer adds it.
    if (this.#timers.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#onDepth(this.#queue.length);
    this.#wake?.();
  }

  /** Adds the key after its backoff delay; returns the delay chosen. */
  addRateLimited(key: string): number {
    if (this.#shuttingDown) return 0;
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delay = backoffDelay(this.#policy, failures);
    if (this.#timers.has(key)) return delay;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delay);
    this.#timers.set(key, timer);
    return delay;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  get depth(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Runs `workers` loops until shutDown(); resolves once in-flight work has finished. */
  async run(workers: number, handler: Handler): Promise<void> {
    await Promise.all(Array.from({ length: workers }, () => this.#worker(handler)));
  }

  /** Stops handing out keys; in-flight keys finish, queued and delayed keys are dropped. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#wake?.();
  }

  async #worker(handler: Handler): Promise<void> {
    for (;;) {
      const key = await this.#next();
      if (key === undefined) return;
      let result: 'done' | 'retry' = 'retry';
      try {
        result = await handler(key);
      } catch (err) {
        // A handler bug must not end the worker: the key backs off and is tried again.
        this.#onError(key, err);
      } finally {
        this.#inFlight.delete(key);
        if (result === 'done') this.forget(key);
        else this.addRateLimited(key);
        if (this.#dirty.delete(key)) this.add(key);
      }
    }
  }

  async #next(): Promise<string | undefined> {
    for (;;) {
      if (this.#shuttingDown) return undefined;
      const key = this.#queue.shift();
      if (key !== undefined) {
        this.#queued.delete(key);
        this.#inFlight.add(key);
        this.#onDepth(this.#queue.length);
        return key;
      }
      await new Promise<void>((resolve) => {
        const previous = this.#wake;
        this.#wake = () => {
          this.#wake = undefined;
          previous?.();
          resolve();
        };
      });
    }
  }
}
