// List-then-watch that survives what @kubernetes/client-node's informer does not: it restarts
// after any watch error with backoff, relists on 410 Gone and periodically, and treats a watch
// that has gone silent (no event, no bookmark) for too long as dead.
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffDelay } from '../queue/index.ts';
import { listAll, type ObjectWithMeta } from './list.ts';

export type ObjectEvent = 'SYNC' | 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ReflectorOptions {
  readonly kubeConfig: KubeConfig;
  /** Collection path, e.g. /apis/tekton.dev/v1/taskruns or /apis/tekton.dev/v1/namespaces/ns/taskruns */
  readonly path: string;
  readonly labelSelector?: string;
  readonly relistSeconds: number;
  readonly stallSeconds: number;
  readonly logger: Logger;
  readonly onObject: (type: ObjectEvent, obj: ObjectWithMeta) => void;
  readonly onRestart?: (reason: string) => void;
}

class WatchGone extends Error {}

export class Reflector {
  readonly #opts: ReflectorOptions;
  readonly #stop = new AbortController();
  #synced = false;
  #lastContact = Date.now();
  #loop: Promise<void> | undefined;

  constructor(options: ReflectorOptions) {
    this.#opts = options;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Milliseconds since the API server last answered this reflector (list, event or bookmark). */
  silenceMs(): number {
    return Date.now() - this.#lastContact;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      try {
        await this.#listAndWatch();
        failures = 0;
      } catch (err) {
        if (this.#stop.signal.aborted) return;
        const reason = err instanceof WatchGone ? 'gone' : 'error';
        this.#opts.onRestart?.(reason);
        if (reason === 'gone') {
          this.#opts.logger.info({ path: this.#opts.path }, 'watch expired (410 Gone); relisting');
          continue;
        }
        failures++;
        const delay = backoffDelay({ initialDelayMs: 500, maxDelayMs: 30_000 }, failures);
        this.#opts.logger.warn({ path: this.#opts.path, err: String(err), retryInMs: delay }, 'list/watch failed; restarting');
        await sleep(delay, undefined, { signal: this.#stop.signal }).catch(() => undefined);
      }
    }
  }

  async #listAndWatch(): Promise<void> {
    const { items, resourceVersion } = await listAll(this.#opts.kubeConfig, this.#opts.path, this.#opts.labelSelector);
    this.#lastContact = Date.now();
    for (const item of items) this.#opts.onObject('SYNC', item);
    this.#synced = true;
    let rv = resourceVersion;
    const relistAt = Date.now() + this.#opts.relistSeconds * 1000;
    while (!this.#stop.signal.aborted && Date.now() < relistAt) {
      const timeoutSeconds = Math.max(1, Math.ceil((relistAt - Date.now()) / 1000));
      rv = await this.#watchOnce(rv, timeoutSeconds);
    }
  }

  /** One watch request; resolves with the last resourceVersion seen when the server ends it. */
  async #watchOnce(resourceVersion: string, timeoutSeconds: number): Promise<string> {
    let rv = resourceVersion;
    const controller = new AbortController();
    const onStop = (): void => controller.abort();
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    try {
      return await new Promise<string>((resolve, reject) => {
        const stall = setInterval(() => {
          if (Date.now() - this.#lastContact > this.#opts.stallSeconds * 1000) {
            controller.abort();
            reject(new Error(`watch stalled: nothing from the API server for ${this.#opts.stallSeconds}s`));
          }
        }, Math.min(1000, this.#opts.stallSeconds * 250));
        const finish = (err?: unknown): void => {
          clearInterval(stall);
          if (err) reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
          else resolve(rv);
        };
        const onEvent = (type: string, obj: ObjectWithMeta & { code?: number }): void => {
          this.#lastContact = Date.now();
          if (type === 'ERROR') {
            controller.abort();
            finish(obj.code === 410 ? new WatchGone('410 Gone') : new Error(`watch error event: ${JSON.stringify(obj)}`));
            return;
          }
          rv = obj.metadata?.resourceVersion ?? rv;
          if (type !== 'BOOKMARK') this.#opts.onObject(type as ObjectEvent, obj);
        };
        const query: Record<string, string | number | boolean> = { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds };
        if (this.#opts.labelSelector) query.labelSelector = this.#opts.labelSelector;
        this.#lastContact = Date.now();
        new Watch(this.#opts.kubeConfig)
          .watch(this.#opts.path, query, onEvent, (err) => finish(this.#stop.signal.aborted ? undefined : err))
          .then((req) => {
            // stop() may have fired while the request was being opened: an abort listener added
            // to an already-aborted signal never runs, and the watch would stay open for good.
            if (controller.signal.aborted) req.abort();
            else controller.signal.addEventListener('abort', () => req.abort(), { once: true });
          }, finish);
      });
    } finally {
      this.#stop.signal.removeEventListener('abort', onStop);
    }
  }
}
