// How the reflector reaches the API server: a watch request (which can also stream the current
// state: WatchList) and a paged LIST for servers that do not offer that. Both read the response as
// it arrives and hand over one object at a time, with long strings emptied (json-records.ts), so
// neither a page nor an object's megabyte of results is ever held. Plain node:https with the
// kubeconfig's credentials and agent; client-node's Watch would parse every byte into strings.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { ApiStatusError, readErrorBody, statusMessage } from './api.ts';
import { JsonRecords } from './json-records.ts';
import { isUnparseable, parseListItem, parseWatchEvent, type UnparseableRecord } from './watch-records.ts';
import type { ClusterAccess } from './kubeconfig.ts';
import type { OwnerReference } from './runs.ts';

export { ApiStatusError };

/**
 * What the reflector hands over: enough to classify. Strings longer than MAX_STRING_BYTES (result
 * values, logs) arrive empty; whoever needs the object whole reads it live.
 */
export interface ObjectWithMeta {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string | Date; finalizers?: string[]; annotations?: Record<string, string>; labels?: Record<string, string>; ownerReferences?: OwnerReference[] };
  status?: unknown;
}

export interface WatchRequest {
  /** Where to resume; undefined asks the server to stream the current state first (WatchList). */
  readonly resourceVersion: string | undefined;
  readonly timeoutSeconds: number;
}

export interface WatchHandlers {
  /** The server accepted the request (status 200). */
  opened(): void;
  event(type: string, obj: ObjectWithMeta & { code?: number }): void;
  /** A record that splits but does not parse as an event was skipped; the watch goes on. */
  unparseable?(record: UnparseableRecord): void;
}

/** How a watch ended without an error: the server closed it, it idled out, or we aborted it. */
export type WatchEnd = 'closed' | 'idle' | 'aborted';

export interface ListWatchSource {
  /** One watch request; resolves when it ends, rejects on a failure (an `ApiStatusError` for a refusal). */
  watch(request: WatchRequest, handlers: WatchHandlers, signal: AbortSignal): Promise<WatchEnd>;
  /**
   * Every object of the collection, page by page; resolves with the list's resourceVersion. An item
   * that does not parse is skipped and reported to `onUnparseable`.
   */
  list(onItem: (obj: ObjectWithMeta) => void, signal: AbortSignal, onUnparseable?: (record: UnparseableRecord) => void): Promise<string>;
}

class IdleTimeout extends Error {}

/** Strings longer than this are emptied: annotations, names and condition fields are far shorter. */
export const MAX_STRING_BYTES = 64 * 1024;
/**
 * A record larger than this, once its long strings are emptied, means the stream was split wrong
 * (the API server stores objects of at most a few MiB): the response is abandoned (UnsplittableStream).
 */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const PAGE = 500;
/** A response that delivers no bytes for this long is abandoned, as client-node's Watch does. */
const IDLE_MS = 30_000;

export class KubeListWatch implements ListWatchSource {
  readonly #kc: ClusterAccess;
  readonly #path: string;
  readonly #labelSelector: string | undefined;
  readonly #idleMs: number;

  constructor(kc: ClusterAccess, path: string, options: { labelSelector?: string; idleMs?: number } = {}) {
    this.#kc = kc;
    this.#path = path;
    this.#labelSelector = options.labelSelector;
    this.#idleMs = options.idleMs ?? IDLE_MS;
  }

  watch(request: WatchRequest, handlers: WatchHandlers, signal: AbortSignal): Promise<WatchEnd> {
    const query: Record<string, string> = { watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: String(request.timeoutSeconds) };
    if (request.resourceVersion === undefined) Object.assign(query, { sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan' });
    else query.resourceVersion = request.resourceVersion;
    return new Promise<WatchEnd>((resolve, reject) => {
      let settled = false;
      let opened = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (signal.aborted) resolve('aborted');
        else if (!err) resolve('closed');
        else if (err instanceof IdleTimeout && opened) resolve('idle');
        else reject(err);
      };
      this.#get(this.#url(query), signal).then(({ res, idled }) => {
        opened = true;
        handlers.opened();
        const records = new JsonRecords('watch', (json) => {
          // Nothing after an abort: the next watch resumes from the last resourceVersion handed over.
          if (signal.aborted) return;
          const event = parseWatchEvent(json);
          if (isUnparseable(event)) handlers.unparseable?.(event);
          else handlers.event(event.type, event.object);
        }, MAX_STRING_BYTES, MAX_RECORD_BYTES);
        read(res, (chunk) => records.push(chunk), (err) => finish(err && idled() ? new IdleTimeout(err.message) : err));
      }, finish);
    });
  }

  async list(onItem: (obj: ObjectWithMeta) => void, signal: AbortSignal, onUnparseable?: (record: UnparseableRecord) => void): Promise<string> {
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const query: Record<string, string> = { limit: String(PAGE) };
      if (cont) query.continue = cont;
      const { res } = await this.#get(this.#url(query), signal);
      const records = new JsonRecords('list', (json) => {
        const item = parseListItem(json);
        if (isUnparseable(item)) onUnparseable?.(item);
        else onItem(item);
      }, MAX_STRING_BYTES, MAX_RECORD_BYTES);
      await new Promise<void>((resolve, reject) => read(res, (chunk) => records.push(chunk), (err) => (err ? reject(err) : resolve())));
      const meta = (records.end() as { metadata?: { continue?: string; resourceVersion?: string } }).metadata ?? {};
      resourceVersion = meta.resourceVersion ?? resourceVersion;
      cont = meta.continue || undefined;
    } while (cont);
    return resourceVersion;
  }

  #url(query: Record<string, string>): URL {
    const url = new URL(`${this.#kc.getCurrentCluster()?.server ?? ''}${this.#path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    if (this.#labelSelector) url.searchParams.set('labelSelector', this.#labelSelector);
    return url;
  }

  /** A GET answered with 200, its body not read yet (any other status is an ApiStatusError), and whether it idled out. */
  async #get(url: URL, signal: AbortSignal, retry = true): Promise<{ res: IncomingMessage; idled: () => boolean }> {
    const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, signal };
    await this.#kc.applyToHTTPSOptions(options);
    let idled = false;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      // `timeout` in the options, not req.setTimeout: only the option also bounds the wait for a
      // proxy's CONNECT answer (req.setTimeout is armed once the tunnel has opened). Socket
      // inactivity, before the answer and while reading it: a silent server ends the request.
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { ...options, timeout: this.#idleMs }, resolve);
      req.on('timeout', () => {
        idled = true;
        const err = new IdleTimeout(`no data for ${this.#idleMs / 1000}s`);
        reject(err);
        req.destroy(err);
      });
      // Stays attached: an error after the answer must not go unhandled (read() sees the response close).
      req.on('error', reject);
      req.end();
    });
    if (res.statusCode === 200) return { res, idled: () => idled };
    const message = statusMessage(await readErrorBody(res, this.#idleMs));
    // A refused credential that can be renewed (exec plugin, token file) is renewed, and the request sent once more.
    if (res.statusCode === 401 && retry && this.#kc.unauthorized?.(options)) return this.#get(url, signal, false);
    throw new ApiStatusError(res.statusCode ?? 0, message);
  }
}

/** Feeds the body to `onChunk` as it arrives; `done` once, with the failure if it did not end cleanly. */
function read(res: IncomingMessage, onChunk: (chunk: Buffer) => void, done: (err?: Error) => void): void {
  let ended = false;
  res.on('data', (chunk: Buffer) => {
    try {
      onChunk(chunk);
    } catch (err) {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  });
  res.on('end', () => {
    ended = true;
    done();
  });
  res.on('error', (err) => done(err));
  res.on('close', () => {
    if (!ended) done(new Error('connection closed before the response ended'));
  });
}
