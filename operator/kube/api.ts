// One JSON request to the Kubernetes API over node:http(s), with the kubeconfig's credentials and
// pooled connections. Every request has a deadline: the socket may stay silent for at most
// `requestMs` while a proxy opens the tunnel, before the response headers and between chunks of
// the body, so a hung API server or proxy never holds a worker for longer. Any status but 2xx is
// an ApiStatusError carrying the code; a 401 is first answered by renewing the credential
// (ClusterAccess.unauthorized) and asking once more.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { ClusterAccess } from './kubeconfig.ts';

export class ApiStatusError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(`HTTP ${code}: ${message}`);
    this.name = 'ApiStatusError';
    this.code = code;
  }
}

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Defaults to application/json; PATCH needs its patch type. */
  readonly contentType?: string;
}

/** 30 s, as the operator's deadlines.requestSeconds default. */
const DEFAULT_REQUEST_MS = 30_000;

export class KubeApi {
  readonly #access: ClusterAccess;
  readonly #requestMs: number;
  #parsed: { server: string; https: boolean; path: string; options: RequestOptions } | undefined;

  constructor(access: ClusterAccess, options: { requestMs?: number | undefined } = {}) {
    this.#access = access;
    this.#requestMs = options.requestMs ?? DEFAULT_REQUEST_MS;
  }

  /** The parsed JSON answer; `signal` ends the request early. */
  async request<T>(req: ApiRequest, signal?: AbortSignal): Promise<T> {
    const server = this.#server();
    const query = req.query ? `?${new URLSearchParams(req.query).toString()}` : '';
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body) Object.assign(headers, { 'content-type': req.contentType ?? 'application/json', 'content-length': String(body.length) });
    const send = async (): Promise<{ options: RequestOptions; status: number; text: string }> => {
      const options: RequestOptions = { ...server.options, path: `${server.path}${req.path}${query}`, method: req.method, headers: { ...headers }, ...(signal ? { signal } : {}) };
      await this.#access.applyToHTTPSOptions(options);
      const res = await this.#send(server.https, options, body);
      const status = res.statusCode ?? 0;
      return { options, status, text: status >= 200 && status < 300 ? await readAll(res, this.#requestMs) : await readErrorBody(res, this.#requestMs) };
    };
    let answer = await send();
    // A refused credential that can be renewed (exec plugin, token file) is renewed, and the request sent once more.
    if (answer.status === 401 && this.#access.unauthorized?.(answer.options)) answer = await send();
    const { status, text } = answer;
    if (status < 200 || status >= 300) throw new ApiStatusError(status, statusMessage(text));
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** The server's address, parsed once (not a URL per request). */
  #server(): { https: boolean; path: string; options: RequestOptions } {
    const server = this.#access.getCurrentCluster()?.server ?? '';
    if (this.#parsed?.server !== server) {
      const url = new URL(server);
      this.#parsed = { server, https: url.protocol !== 'http:', path: url.pathname.replace(/\/+$/, ''), options: { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (url.protocol === 'http:' ? 80 : 443) } };
    }
    return this.#parsed;
  }

  #send(https: boolean, options: RequestOptions, body: Buffer | undefined): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      // `timeout` in the options, not req.setTimeout: only the option also bounds the wait for a
      // proxy's CONNECT answer (req.setTimeout is armed once the tunnel has opened).
      const req = (https ? httpsRequest : httpRequest)({ ...options, timeout: this.#requestMs }, resolve);
      req.on('timeout', () => {
        const err = timeoutError(this.#requestMs, options.path ?? '');
        reject(err);
        req.destroy(err);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** The whole body; a silent socket ends it after `idleMs`. */
function readAll(res: IncomingMessage, idleMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.setTimeout(idleMs, () => res.destroy(timeoutError(idleMs)));
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => { if (!res.complete) reject(new Error('connection closed before the response ended')); });
  });
}

/** Enough of an error answer for its message (a Status is well under it); the message keeps 200 characters of anything else. */
const ERROR_BODY_BYTES = 8192;

/**
 * The start of an error answer, whatever its length: the rest is not read (the connection is
 * closed instead), so a server or proxy answering a huge or endless body costs neither memory
 * nor time.
 */
export function readErrorBody(res: IncomingMessage, idleMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => resolve(Buffer.concat(chunks, size).subarray(0, ERROR_BODY_BYTES).toString('utf8'));
    res.setTimeout(idleMs, () => res.destroy(timeoutError(idleMs)));
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size < ERROR_BODY_BYTES) return;
      res.removeAllListeners('data');
      res.destroy();
      done();
    });
    res.on('end', done);
    res.on('error', reject);
    res.on('close', () => { if (!res.complete && size < ERROR_BODY_BYTES) reject(new Error('connection closed before the response ended')); });
  });
}

/** Retryable like any network fault (failure.ts): the code is the one a socket timeout carries. */
function timeoutError(ms: number, path?: string): Error {
  return Object.assign(new Error(`no answer from the API server${path ? ` (${path.split('?')[0] ?? ''})` : ''} within ${Math.round(ms / 1000)} s`), { code: 'ETIMEDOUT' });
}

export function statusMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body.slice(0, 200);
  }
}
