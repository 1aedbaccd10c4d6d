// How the reflector reaches the API server: one watch request (client-node's Watch), which can
// also stream the current state (WatchList), and a paged LIST for servers that do not offer that.
// Both hand over one object at a time and keep none.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { ListItemSplitter } from './json-items.ts';

export interface ObjectWithMeta {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string | Date; finalizers?: string[]; annotations?: Record<string, string>; labels?: Record<string, string> };
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
}

/** How a watch ended without an error: the server closed it, the client's idle timer did, or we did. */
export type WatchEnd = 'closed' | 'idle' | 'aborted';

export interface ListWatchSource {
  /** One watch request; resolves when it ends, rejects on a failure (an `ApiStatusError` for a refusal). */
  watch(request: WatchRequest, handlers: WatchHandlers, signal: AbortSignal): Promise<WatchEnd>;
  /** Every object of the collection, page by page; resolves with the list's resourceVersion. */
  list(onItem: (obj: ObjectWithMeta) => void, signal: AbortSignal): Promise<string>;
}

export class ApiStatusError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(`HTTP ${code}: ${message}`);
    this.code = code;
  }
}

const PAGE = 500;
/** A page request that delivers no bytes for this long is abandoned (as client-node's Watch does). */
const PAGE_IDLE_MS = 30_000;

export class KubeListWatch implements ListWatchSource {
  readonly #kc: KubeConfig;
  readonly #path: string;
  readonly #labelSelector: string | undefined;

  constructor(kc: KubeConfig, path: string, labelSelector?: string) {
    this.#kc = kc;
    this.#path = path;
    this.#labelSelector = labelSelector;
  }

  watch(request: WatchRequest, handlers: WatchHandlers, signal: AbortSignal): Promise<WatchEnd> {
    const query: Record<string, string | number | boolean> = { allowWatchBookmarks: true, timeoutSeconds: request.timeoutSeconds };
    if (request.resourceVersion === undefined) Object.assign(query, { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' });
    else query.resourceVersion = request.resourceVersion;
    if (this.#labelSelector) query.labelSelector = this.#labelSelector;
    return new Promise<WatchEnd>((resolve, reject) => {
      let ended = false;
      let opened = false;
      const done = (err: unknown): void => {
        if (ended) return;
        ended = true;
        if (signal.aborted) resolve('aborted');
        else if (!err) resolve('closed');
        // client-node aborts a watch after 30 s without data: a normal end, not a failure.
        else if ((err as { name?: string }).name === 'TimeoutError' && opened) resolve('idle');
        else reject(asError(err));
      };
      new Watch(this.#kc).watch(this.#path, query, (type: string, obj: ObjectWithMeta) => {
        if (!ended) handlers.event(type, obj);
      }, done).then((req) => {
        if (ended) return;
        opened = true;
        handlers.opened();
        // An abort listener added to an already-aborted signal never runs.
        if (signal.aborted) req.abort();
        else signal.addEventListener('abort', () => req.abort(), { once: true });
      }, done);
    });
  }

  async list(onItem: (obj: ObjectWithMeta) => void, signal: AbortSignal): Promise<string> {
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const url = new URL(this.#kc.getCurrentCluster()?.server + this.#path);
      url.searchParams.set('limit', String(PAGE));
      if (cont) url.searchParams.set('continue', cont);
      if (this.#labelSelector) url.searchParams.set('labelSelector', this.#labelSelector);
      const meta = await this.#page(url, onItem, signal);
      resourceVersion = meta.resourceVersion ?? resourceVersion;
      cont = meta.continue || undefined;
    } while (cont);
    return resourceVersion;
  }

  async #page(url: URL, onItem: (obj: ObjectWithMeta) => void, signal: AbortSignal): Promise<{ continue?: string; resourceVersion?: string }> {
    const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, signal };
    await this.#kc.applyToHTTPSOptions(options);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, resolve);
      req.setTimeout(PAGE_IDLE_MS, () => req.destroy(new Error(`list page: no data for ${PAGE_IDLE_MS / 1000}s`)));
      req.on('error', reject);
      req.end();
    });
    if (res.statusCode !== 200) throw new ApiStatusError(res.statusCode ?? 0, statusMessage(await readSmall(res)));
    const splitter = new ListItemSplitter((json) => onItem(JSON.parse(json.toString('utf8')) as ObjectWithMeta));
    for await (const chunk of res) splitter.push(chunk as Buffer);
    return (splitter.end() as { metadata?: { continue?: string; resourceVersion?: string } }).metadata ?? {};
  }
}

function asError(err: unknown): Error {
  const code = (err as { statusCode?: unknown }).statusCode;
  if (typeof code === 'number') return new ApiStatusError(code, (err as Error).message);
  return err instanceof Error ? err : new Error(JSON.stringify(err));
}

async function readSmall(res: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of res) {
    if (body.length < 4096) body += String(chunk);
  }
  return body;
}

function statusMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body.slice(0, 200);
  }
}
