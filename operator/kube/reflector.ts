// List-then-watch that keeps nothing: each object is handed to onObject as it arrives and
// dropped. The state comes as a stream (WatchList: a watch that first replays every object, then
// bookmarks the resourceVersion it is complete at), or from a paged LIST where the server does not
// offer that. A watch that ends — the server's timeout, the 30 s idle timeout, a network fault —
// resumes from the last resourceVersion seen; only 410 Gone (and the optional periodic relist)
// lists again. A record that does not parse is skipped, logged and counted — resuming would only
// read it again — as is an object its handler fails on, and a response that no longer splits into records is read again from a fresh list.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffDelay } from '../queue/index.ts';
import type { ClusterAccess } from './kubeconfig.ts';
import { UnsplittableStream } from './json-records.ts';
import { ApiStatusError, KubeListWatch, type ListWatchSource, type ObjectWithMeta, type WatchEnd } from './list.ts';
import type { UnparseableRecord } from './watch-records.ts';

export type ObjectEvent = 'SYNC' | 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ReflectorOptions {
  readonly kubeConfig: ClusterAccess;
  /** Collection path, e.g. /apis/tekton.dev/v1/taskruns or /apis/tekton.dev/v1/namespaces/ns/taskruns */
  readonly path: string;
  readonly labelSelector?: string;
  readonly relistSeconds: number;
  readonly stallSeconds: number;
  readonly logger: Logger;
  /**
   * SYNC for each object of a (re)list, then the watch's events; called synchronously, in order.
   * The object is for deciding only: strings over MAX_STRING_BYTES arrive empty (list.ts).
   */
  readonly onObject: (type: ObjectEvent, obj: ObjectWithMeta) => void;
  /** A watch restarted after a fault: 'gone' (410, relists), 'resync' (relists), 'error' or 'stall' (resumes). */
  readonly onRestart?: (reason: string) => void;
  /** A record skipped because it did not parse, or a response abandoned because it no longer split; `resource`: the path's last segment. */
  readonly onUnparseable?: (resource: string) => void;
  /** An object onObject threw on (our bug, or an object our code cannot handle), skipped; `resource` as above. */
  readonly onHandlerError?: (resource: string) => void;
  /** How to reach the API server; tests pass a fake. */
  readonly source?: ListWatchSource;
}

/** Marks the bookmark that closes a WatchList's replay of the current state. */
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';
/**
 * A watch response with no data for this long is given up (as client-node's Watch does after 30 s),
 * or for a quarter of `watch.stallSeconds` when that is shorter: a connection silent that long is
 * not worth waiting on when the whole watch is declared stalled at four times it.
 */
export function idleTimeoutMs(stallSeconds: number): number {
  return Math.min(30_000, Math.max(2000, stallSeconds * 250));
}

/**
 * The API server sends a bookmark 2 s before the timeout a watch asks for, but its periodic
 * bookmark only every minute. Resumed watches therefore ask for five sixths of the idle timeout
 * (25 s by default): each ends with a fresh resourceVersion before the idle timeout could cut it,
 * even on a collection where nothing happens (and a watch filtered by namespace or label never
 * falls behind).
 */
function resumeTimeoutSeconds(stallSeconds: number): number {
  return Math.floor((idleTimeoutMs(stallSeconds) / 1000) * 5 / 6);
}
/** Streaming the whole state may take long; the watch it turns into then ends on the idle timeout. */
const STREAM_TIMEOUT_SECONDS = 600;
const BACKOFF = { initialDelayMs: 500, maxDelayMs: 30_000 };

class WatchGone extends Error {}
class WatchStalled extends Error {}
class NoStreamingList extends Error {}

export class Reflector {
  readonly #opts: ReflectorOptions;
  readonly #source: ListWatchSource;
  readonly #stop = new AbortController();
  /** Where the next watch resumes; undefined: the state must be listed first. */
  #resourceVersion: string | undefined;
  /** Whether the server streams lists (WatchList); false after it refused one. */
  #streaming = true;
  #synced = false;
  #listedAt = 0;
  #lastContact = Date.now();
  #loop: Promise<void> | undefined;

  constructor(options: ReflectorOptions) {
    this.#opts = options;
    this.#source = options.source ?? new KubeListWatch(options.kubeConfig, options.path, {
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      idleMs: idleTimeoutMs(options.stallSeconds),
    });
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

  /** Milliseconds since the API server last answered this reflector (list, watch, event or bookmark). */
  silenceMs(): number {
    return Date.now() - this.#lastContact;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      let delay = 0;
      try {
        // A watch that ends at once with nothing in it must not turn into a busy loop.
        failures = (await this.#cycle()) ? 0 : failures + 1;
        if (failures > 0) delay = backoffDelay(BACKOFF, failures);
      } catch (err) {
        if (this.#stop.signal.aborted) return;
        if (this.#restartsAtOnce(err)) continue;
        failures++;
        delay = backoffDelay(BACKOFF, failures);
        if (err instanceof UnsplittableStream) {
          this.#resync(err, delay);
        } else {
          this.#opts.onRestart?.(err instanceof WatchStalled ? 'stall' : 'error');
          this.#opts.logger.warn({ path: this.#opts.path, err: String(err), resourceVersion: this.#resourceVersion, retryInMs: delay }, 'watch failed; resuming');
        }
      }
      if (delay > 0) await sleep(delay, undefined, { signal: this.#stop.signal }).catch(() => undefined);
    }
  }

  /**
   * Where the records of a response can no longer be told apart, resuming would read the same bytes
   * again: the state is listed afresh instead, after the backoff.
   */
  #resync(err: UnsplittableStream, delay: number): void {
    this.#opts.onUnparseable?.(this.#resource());
    this.#opts.onRestart?.('resync');
    this.#opts.logger.warn({ path: this.#opts.path, err: err.message, resourceVersion: this.#resourceVersion, retryInMs: delay }, 'watch response cannot be split into records; relisting');
    this.#resourceVersion = undefined;
  }

  /** One log line and one count for a skipped record: never its text, which tenants write. */
  #skipped(record: UnparseableRecord, what: 'watch event' | 'list item'): void {
    this.#opts.onUnparseable?.(this.#resource());
    const object = record.object === undefined ? {} : { object: record.object };
    this.#opts.logger.warn({ path: this.#opts.path, ...object, bytes: record.bytes, reason: record.reason, resourceVersion: this.#resourceVersion }, `skipped a ${what} that cannot be parsed`);
  }

  /**
   * Hands one object to onObject. A handler that throws skips that object: thrown out of here it
   * would end the list or watch, and the same object would come back (and throw) on every relist,
   * so nothing else would ever be seen. Its own count and an error line with the stack: this is
   * our code failing, not the API server's bytes.
   */
  #deliver(type: ObjectEvent, obj: ObjectWithMeta, what: 'watch event' | 'list item'): void {
    try {
      this.#opts.onObject(type, obj);
    } catch (err) {
      const meta = obj.metadata;
      const name = typeof meta?.name === 'string' ? `${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${meta.name}` : undefined;
      this.#opts.onHandlerError?.(this.#resource());
      this.#opts.logger.error({ path: this.#opts.path, ...(name === undefined ? {} : { object: name.slice(0, 253) }), event: type, err, resourceVersion: this.#resourceVersion }, `skipped a ${what} its handler failed on`);
    }
  }

  #resource(): string {
    return this.#opts.path.split('/').filter((s) => s !== '').at(-1) ?? '';
  }

  /** 410 Gone relists, and a refused streaming list switches to paging, both without delay. */
  #restartsAtOnce(err: unknown): boolean {
    if (isGone(err)) {
      this.#opts.onRestart?.('gone');
      this.#opts.logger.info({ path: this.#opts.path, resourceVersion: this.#resourceVersion }, 'watch expired (410 Gone); relisting');
      this.#resourceVersion = undefined;
      return true;
    }
    if (this.#resourceVersion === undefined && this.#streaming && refusesStreaming(err)) {
      this.#streaming = false;
      this.#opts.logger.info({ path: this.#opts.path, err: String(err) }, 'the API server does not stream lists (WatchList); using paged LIST');
      return true;
    }
    return false;
  }

  /** Lists if needed, then runs one watch; resolves with whether the server sent anything. */
  async #cycle(): Promise<boolean> {
    if (this.#resourceVersion === undefined && !this.#streaming) await this.#pagedList();
    const heard = await this.#watchOnce();
    if (this.#resourceVersion !== undefined && this.#opts.relistSeconds > 0 && Date.now() >= this.#relistAt()) {
      this.#opts.logger.info({ path: this.#opts.path, relistSeconds: this.#opts.relistSeconds }, 'periodic relist');
      this.#resourceVersion = undefined;
    }
    return heard;
  }

  #relistAt(): number {
    return this.#listedAt + this.#opts.relistSeconds * 1000;
  }

  async #pagedList(): Promise<void> {
    const started = Date.now();
    let objects = 0;
    const rv = await this.#source.list((obj) => {
      this.#lastContact = Date.now();
      objects++;
      this.#deliver('SYNC', obj, 'list item');
    }, this.#stop.signal, (record) => {
      this.#lastContact = Date.now();
      this.#skipped(record, 'list item');
    });
    this.#listed(rv, objects, 'paged', started);
  }

  #listed(resourceVersion: string, objects: number, via: 'stream' | 'paged', started: number): void {
    this.#resourceVersion = resourceVersion;
    this.#synced = true;
    this.#lastContact = Date.now();
    this.#listedAt = Date.now();
    this.#opts.logger.info({ path: this.#opts.path, objects, resourceVersion, via, ms: Date.now() - started }, 'listed');
  }

  /** One watch request: resumes from the last resourceVersion, or streams the state first. */
  async #watchOnce(): Promise<boolean> {
    const started = Date.now();
    const streaming = this.#resourceVersion === undefined;
    const untilRelist = Math.ceil((this.#relistAt() - started) / 1000);
    const timeoutSeconds = streaming ? STREAM_TIMEOUT_SECONDS : Math.max(1, Math.min(resumeTimeoutSeconds(this.#opts.stallSeconds), untilRelist));
    const w: OneWatch = { controller: new AbortController(), started, heard: false, listed: 0, failure: undefined };
    const onStop = (): void => w.controller.abort();
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    const stall = setInterval(() => {
      if (this.silenceMs() > this.#opts.stallSeconds * 1000) fail(w, new WatchStalled(`watch stalled: nothing from the API server for ${this.#opts.stallSeconds}s`));
    }, Math.min(1000, this.#opts.stallSeconds * 250));
    let end: WatchEnd;
    try {
      end = await this.#source.watch({ resourceVersion: this.#resourceVersion, timeoutSeconds }, {
        opened: () => this.#contact(w),
        event: (type, obj) => this.#onEvent(w, type, obj),
        unparseable: (record) => {
          this.#contact(w);
          this.#skipped(record, 'watch event');
        },
      }, w.controller.signal);
    } catch (err) {
      throw w.failure ?? err;
    } finally {
      clearInterval(stall);
      this.#stop.signal.removeEventListener('abort', onStop);
    }
    if (w.failure && !this.#stop.signal.aborted) throw w.failure;
    this.#opts.logger.debug({ path: this.#opts.path, end, resourceVersion: this.#resourceVersion, seconds: (Date.now() - started) / 1000 }, 'watch ended; resuming');
    return w.heard;
  }

  #contact(w: OneWatch): void {
    w.heard = true;
    this.#lastContact = Date.now();
  }

  #onEvent(w: OneWatch, type: string, obj: ObjectWithMeta & { code?: number }): void {
    this.#contact(w);
    if (type === 'ERROR') {
      fail(w, obj.code === 410 ? new WatchGone('410 Gone') : new Error(`watch error event: ${JSON.stringify(obj)}`));
    } else if (this.#resourceVersion === undefined) {
      this.#onInitialEvent(w, type, obj);
    } else {
      this.#resourceVersion = obj.metadata?.resourceVersion ?? this.#resourceVersion;
      if (type !== 'BOOKMARK') this.#deliver(type as ObjectEvent, obj, 'watch event');
    }
  }

  /** While a WatchList replays the state: every object is SYNC until the bookmark that closes it. */
  #onInitialEvent(w: OneWatch, type: string, obj: ObjectWithMeta): void {
    if (type !== 'BOOKMARK') {
      w.listed++;
      this.#deliver('SYNC', obj, 'watch event');
      return;
    }
    const rv = obj.metadata?.resourceVersion;
    if (obj.metadata?.annotations?.[INITIAL_EVENTS_END] !== 'true' || !rv) {
      // The server ignored sendInitialEvents: what it replayed has no resourceVersion to resume from.
      fail(w, new NoStreamingList('a bookmark came before the end of the initial events'));
      return;
    }
    this.#listed(rv, w.listed, 'stream', w.started);
    // Resume at once with the short watches that end on a bookmark, rather than let this one idle out.
    w.controller.abort();
  }
}

interface OneWatch {
  readonly controller: AbortController;
  readonly started: number;
  heard: boolean;
  listed: number;
  failure: Error | undefined;
}

function fail(w: OneWatch, err: Error): void {
  w.failure ??= err;
  w.controller.abort();
}

/** 422: WatchList is off (by default on Kubernetes 1.33, and 1.31 and older); 400 from older servers. */
function refusesStreaming(err: unknown): boolean {
  return err instanceof NoStreamingList || (err instanceof ApiStatusError && (err.code === 422 || err.code === 400));
}

function isGone(err: unknown): boolean {
  return err instanceof WatchGone || (err instanceof ApiStatusError && err.code === 410);
}
