// A work queue with controller-runtime's guarantees: a key is queued at most once, is never
// handed to two workers at once (a key added while in flight runs again after it finishes),
// and retries back off per key. Two lanes: what the watch reports as it happens goes before the
// backlog a list brings (at start-up, after a relist), so a run that completes now never waits
// behind hundreds of re-checks of runs settled long ago.
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

export type Handler = (key: string) => Promise<'done' | 'retry'>;

/** `now`: a watch event (or a retry); `backlog`: an object a list replayed. */
export type Priority = 'now' | 'backlog';

export class WorkQueue {
  readonly #policy: BackoffPolicy;
  readonly #now: string[] = [];
  readonly #backlog: string[] = [];
  /** Each queued key once, with the lane it is to be taken from (an entry in the other lane is stale). */
  readonly #queued = new Map<string, Priority>();
  readonly #inFlight = new Set<string>();
  readonly #dirty = new Map<string, Priority>();
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

  add(key: string, priority: Priority = 'now'): void {
    if (this.#shuttingDown) return;
    if (this.#inFlight.has(key)) {
      if (this.#dirty.get(key) !== 'now') this.#dirty.set(key, priority);
      return;
    }
    const queued = this.#queued.get(key);
    // Already waiting in the backlog: an event about it moves it up (its backlog entry goes stale).
    if (queued === 'backlog' && priority === 'now') {
      this.#queued.set(key, 'now');
      this.#now.push(key);
      this.#wake?.();
      return;
    }
    if (queued !== undefined) return;
    // Backing off: a watch event or a relist must not cut the wait short; the timer adds it.
    if (this.#timers.has(key)) return;
    this.#queued.set(key, priority);
    (priority === 'now' ? this.#now : this.#backlog).push(key);
    this.#onDepth(this.#queued.size);
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
    return this.#queued.size;
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
        const dirty = this.#dirty.get(key);
        if (dirty !== undefined) {
          this.#dirty.delete(key);
          this.add(key, dirty);
        }
      }
    }
  }

  /** The next key, the `now` lane first; entries whose key moved lanes (or left) are skipped. */
  #take(): string | undefined {
    for (const [lane, name] of [[this.#now, 'now'], [this.#backlog, 'backlog']] as const) {
      for (let key = lane.shift(); key !== undefined; key = lane.shift()) {
        if (this.#queued.get(key) === name) return key;
      }
    }
    return undefined;
  }

  async #next(): Promise<string | undefined> {
    for (;;) {
      if (this.#shuttingDown) return undefined;
      const key = this.#take();
      if (key !== undefined) {
        this.#queued.delete(key);
        this.#inFlight.add(key);
        this.#onDepth(this.#queued.size);
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
