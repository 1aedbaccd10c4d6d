// A small client for the Cloud Storage JSON API: the five calls slsa-ml makes, over node:http(s)
// with pooled keep-alive connections, each with a deadline. It replaces @google-cloud/storage on
// every path we use because that client re-pipes a retried download into a stream the caller
// already closed (an uncaught ERR_STREAM_UNABLE_TO_PIPE that ended the operator under connection
// resets), piles listeners on retried streams, validates downloads with a JavaScript CRC32C that
// costs more CPU than our SHA-256, and loads tens of MB of modules. No checksum of a download is
// checked here: the bytes only ever feed our own SHA-256, which is compared with the digest the
// run reported and is what we sign, so a corrupted transfer is a DIGEST_MISMATCH (or, with no
// reported digest, a subject no real copy of the model matches) and never passes unnoticed; TLS
// already guards the transfer. Plain Node streams rather than fetch: a download is read as it
// arrives, without web-stream conversion per chunk. Retries are an option (gcs-retry.ts): the CLI
// and the action turn them on; the operator leaves them off, as it retries with its own backoff
// and budget, so a fault is never retried twice over.
import { createHash, randomBytes } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { crc32cBase64 } from './crc32c.ts';
import { StorageError } from './errors.ts';
import { parseRetryAfter, withRetries } from './gcs-retry.ts';
import type { RetryPolicy } from './types.ts';

const GOOGLE = 'https://storage.googleapis.com';
/**
 * Multipart boundaries: a random part per process, which nobody whose text ends up in a statement
 * (a tenant's params and results) can know, so none can end the part early; a counter makes each
 * unique without drawing random bytes for every upload.
 */
const BOUNDARY_PREFIX = randomBytes(12).toString('hex');
let boundaries = 0;
const SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';
/** How much earlier than our first attempt the service's clock may date our own copy (timeCreated). */
const CLOCK_SKEW_MS = 60_000;

export interface GcsHttpOptions {
  /** Another endpoint (an emulator); plain http endpoints get no credentials. */
  readonly apiEndpoint?: string;
  /** Billing project, sent as `userProject` on every request: what Requester Pays buckets require. */
  readonly userProject?: string | undefined;
  /** Deadline of each request until its response headers arrive; of a JSON answer, until its end. */
  readonly requestMs: number;
  /** Retries of every call; one attempt each when absent. */
  readonly retry?: RetryPolicy | undefined;
  /** Where HTTPS_PROXY and NO_PROXY are read (default: this process's environment). */
  readonly proxyEnv?: NodeJS.ProcessEnv | undefined;
}

/** Object metadata as the JSON API returns it (numbers as strings). */
export interface GcsObject {
  readonly name: string;
  readonly size?: string;
  readonly generation?: string;
  readonly timeCreated?: string;
  /** Base64 of the MD5 of the stored bytes, computed by the server. */
  readonly md5Hash?: string;
  readonly crc32c?: string;
}

export interface GcsPage {
  readonly items: GcsObject[];
  readonly nextPageToken?: string;
}

type Token = () => Promise<string | undefined>;

interface Send {
  readonly method: string;
  readonly path: string;
  readonly body?: Buffer;
  readonly contentType?: string;
}

export class GcsHttp {
  readonly #base: URL;
  readonly #requestMs: number;
  readonly #token: Token;
  readonly #agent: HttpAgent;
  readonly #userProject: string | undefined;
  readonly #retry: RetryPolicy | undefined;

  constructor(options: GcsHttpOptions) {
    const endpoint = options.apiEndpoint ?? GOOGLE;
    this.#base = new URL((endpoint.includes('://') ? endpoint : `https://${endpoint}`).replace(/\/+$/, ''));
    this.#requestMs = options.requestMs;
    const plain = this.#base.protocol === 'http:';
    this.#token = plain ? () => Promise.resolve(undefined) : applicationDefaultToken();
    this.#agent = gcsAgent(this.#base, options.proxyEnv ?? process.env);
    this.#userProject = options.userProject || undefined;
    this.#retry = options.retry;
  }

  async getMetadata(bucket: string, name: string, generation?: string): Promise<GcsObject> {
    return withRetries(this.#retry, (_, leftMs) => this.#metadataOnce(bucket, name, generation, this.#deadline(leftMs)));
  }

  async #metadataOnce(bucket: string, name: string, generation: string | undefined, ms: number): Promise<GcsObject> {
    const query = generation === undefined ? '' : `?generation=${generation}`;
    return (await this.#json({ method: 'GET', path: `/storage/v1/b/${enc(bucket)}/o/${enc(name)}${query}` }, `gs://${bucket}/${name}`, ms)) as GcsObject;
  }

  /** One attempt's deadline: the request deadline, cut to what is left of the retry budget. */
  #deadline(leftMs: number | undefined): number {
    return leftMs === undefined ? this.#requestMs : Math.min(this.#requestMs, leftMs);
  }

  /** One page of the objects under `prefix`; `range` narrows it to names in [startOffset, endOffset). */
  async list(bucket: string, prefix: string, pageSize: number, pageToken?: string, range?: { startOffset: string; endOffset: string }): Promise<GcsPage> {
    const query = new URLSearchParams({ prefix, maxResults: String(pageSize), fields: 'items(name,size,generation,timeCreated),nextPageToken' });
    if (pageToken) query.set('pageToken', pageToken);
    if (range) {
      query.set('startOffset', range.startOffset);
      query.set('endOffset', range.endOffset);
    }
    const send = { method: 'GET', path: `/storage/v1/b/${enc(bucket)}/o?${query.toString()}` };
    const page = (await withRetries(this.#retry, (_, leftMs) => this.#json(send, `gs://${bucket}/${prefix}`, this.#deadline(leftMs)))) as Partial<GcsPage>;
    return { items: page.items ?? [], ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  /**
   * The object's bytes as a stream; `signal` aborts the download. Retried only until the response
   * headers: once the caller holds the stream, a failure is the caller's to see.
   */
  async download(bucket: string, name: string, generation: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
    const query = generation === undefined ? '?alt=media' : `?alt=media&generation=${generation}`;
    const uri = `gs://${bucket}/${name}`;
    return withRetries(this.#retry, async (_, leftMs) => {
      const res = await this.#send({ method: 'GET', path: `/storage/v1/b/${enc(bucket)}/o/${enc(name)}${query}` }, uri, signal, this.#deadline(leftMs));
      if (!ok(res)) throw await statusError(uri, res);
      return res;
    }, signal);
  }

  /**
   * A multipart upload with ifGenerationMatch=0: GCS (and fake-gcs-server) refuse it with 412 when
   * the name exists. The object's MD5 and CRC32C go with it, so the service refuses bytes changed on
   * the way (400) instead of storing them under a name nothing may overwrite. Resolves with the
   * object as the server stored it. Being create-only, it is idempotent and retried like a read.
   */
  async createOnly(bucket: string, name: string, data: Buffer, contentType: string): Promise<GcsObject> {
    const sent = { md5Hash: md5Base64(data), crc32c: crc32cBase64(data), size: String(data.length) };
    const started = Date.now();
    return withRetries(this.#retry, async (attempt, leftMs) => {
      try {
        return await this.#createOnce({ bucket, name, data, contentType, ...sent }, this.#deadline(leftMs));
      } catch (err) {
        // An earlier attempt may have stored the object and lost only its answer: our own bytes
        // under the name are our success, anyone else's are what ALREADY_EXISTS means.
        if (attempt === 1 || !(err instanceof StorageError) || err.code !== 'ALREADY_EXISTS') throw err;
        const stored = await this.#metadataOnce(bucket, name, undefined, this.#deadline(leftMs));
        if (!isOurCopy(stored, sent, started)) throw err;
        return stored;
      }
    });
  }

  async #createOnce({ bucket, name, data, contentType, md5Hash, crc32c }: { bucket: string; name: string; data: Buffer; contentType: string; md5Hash: string; crc32c: string }, ms: number): Promise<GcsObject> {
    const boundary = `slsa-ml-${BOUNDARY_PREFIX}-${(boundaries++).toString(36)}`;
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify({ name, contentType, md5Hash, crc32c })}\r\n`),
      Buffer.from(`--${boundary}\r\ncontent-type: ${contentType}\r\n\r\n`),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const path = `/upload/storage/v1/b/${enc(bucket)}/o?uploadType=multipart&ifGenerationMatch=0`;
    return (await this.#json({ method: 'POST', path, body, contentType: `multipart/related; boundary=${boundary}` }, `gs://${bucket}/${name}`, ms)) as GcsObject;
  }

  /** A small JSON answer: the deadline (`ms`) covers its body too. */
  async #json(send: Send, uri: string, ms: number): Promise<unknown> {
    const deadline = { timedOut: false };
    const res = await this.#send(send, uri, undefined, ms, deadline);
    try {
      if (!ok(res)) throw await statusError(uri, res);
      return JSON.parse((await readText(res)) || '{}');
    } catch (err) {
      throw requestFailed(uri, err, deadline.timedOut ? ms : undefined);
    }
  }

  /**
   * Resolves at the response headers; the deadline covers them, and with `wholeBody` (JSON answers)
   * the body too. A streamed body is the reader's to watch (stall deadline); `signal` ends it.
   */
  async #send(send: Send, uri: string, signal: AbortSignal | undefined, ms: number, wholeBody?: { timedOut: boolean }): Promise<IncomingMessage> {
    try {
      return await this.#sendOnce(send, uri, signal, ms, wholeBody);
    } catch (err) {
      // A kept-alive connection the server closed while it sat idle fails the next request sent on
      // it before any answer (Node's documented race). A read is sent again, once, on a new
      // connection; a write is not: sent again, it meets its own first copy, which only a retry
      // policy's attempts recognise (createOnly).
      if (!(err instanceof StaleConnection)) throw err;
      return this.#sendOnce(send, uri, signal, ms, wholeBody);
    }
  }

  async #sendOnce(send: Send, uri: string, signal: AbortSignal | undefined, ms: number, wholeBody?: { timedOut: boolean }): Promise<IncomingMessage> {
    const token = await this.#token();
    const base = this.#base;
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (send.contentType) headers['content-type'] = send.contentType;
    if (send.body) headers['content-length'] = String(send.body.length);
    const billed = this.#userProject === undefined ? '' : `${send.path.includes('?') ? '&' : '?'}userProject=${encodeURIComponent(this.#userProject)}`;
    const options: RequestOptions = {
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || (base.protocol === 'http:' ? 80 : 443),
      path: `${base.pathname.replace(/\/$/, '')}${send.path}${billed}`,
      method: send.method, headers, agent: this.#agent, ...(signal ? { signal } : {}),
      // Bounds a proxy's CONNECT too, and closes its socket: before the tunnel opens the request has
      // no socket, and req.destroy() alone would leave both it and this promise waiting.
      timeout: ms,
    };
    return new Promise<IncomingMessage>((resolve, reject) => {
      let timedOut = false;
      const req = (base.protocol === 'http:' ? httpRequest : httpsRequest)(options, (res) => {
        if (wholeBody) res.once('close', () => clearTimeout(timer));
        else clearTimeout(timer);
        resolve(res);
      });
      const timer = setTimeout(() => {
        timedOut = true;
        if (wholeBody) wholeBody.timedOut = true;
        const err = new Error('request deadline');
        reject(requestFailed(uri, err, ms));
        req.destroy(err);
      }, ms);
      req.on('error', (err) => {
        clearTimeout(timer);
        const code = (err as { code?: unknown }).code;
        if (send.method === 'GET' && req.reusedSocket && !timedOut && (code === 'ECONNRESET' || code === 'EPIPE')) reject(new StaleConnection());
        else reject(requestFailed(uri, err, timedOut ? ms : undefined));
      });
      req.end(send.body);
    });
  }
}

class StaleConnection extends Error {}

/**
 * Pooled connections to the endpoint. An https endpoint (Google's) goes through $HTTPS_PROXY with
 * CONNECT unless $NO_PROXY names it, as @google-cloud/storage did through gaxios: behind a
 * corporate proxy there is no other way out. A plain-http endpoint is a local emulator: direct.
 */
export function gcsAgent(endpoint: URL, env: NodeJS.ProcessEnv): HttpAgent {
  if (endpoint.protocol === 'http:') return new HttpAgent({ keepAlive: true });
  const proxy = env.HTTPS_PROXY ?? env.https_proxy;
  const noProxy = env.NO_PROXY ?? env.no_proxy;
  if (!proxy) return new HttpsAgent({ keepAlive: true });
  return new HttpsAgent({ keepAlive: true, proxyEnv: { HTTPS_PROXY: proxy, ...(noProxy ? { NO_PROXY: noProxy } : {}) } });
}

function ok(res: IncomingMessage): boolean {
  const status = res.statusCode ?? 0;
  return status >= 200 && status < 300;
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Base64 MD5, as GCS reports md5Hash. */
export function md5Base64(data: Buffer): string {
  return createHash('md5').update(data).digest('base64');
}

/** Encodes a bucket or object name as one path segment. */
function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** Application Default Credentials (Workload Identity on GKE), loaded only when a real endpoint is used. */
function applicationDefaultToken(): Token {
  let client: Promise<{ getAccessToken(): Promise<string | null | undefined> }> | undefined;
  return async () => {
    client ??= import('google-auth-library').then(({ GoogleAuth }) => new GoogleAuth({ scopes: [SCOPE] }).getClient())
      .then((c) => ({ getAccessToken: async () => (await c.getAccessToken()).token }));
    try {
      return (await (await client).getAccessToken()) ?? undefined;
    } catch (err) {
      client = undefined;
      throw new StorageError('PERMISSION_DENIED', `no Google credentials for Cloud Storage: ${(err as Error).message}`, { cause: err, retryable: true });
    }
  };
}

/**
 * Whether the object under the name is the copy an earlier attempt of ours stored: the same bytes
 * (MD5, CRC32C, size), created after our first attempt began (less the clock skew allowed between
 * us and the service). An identical object stored earlier by someone else is not ours.
 */
function isOurCopy(stored: GcsObject, sent: { md5Hash: string; crc32c: string; size: string }, startedMs: number): boolean {
  if (stored.md5Hash !== sent.md5Hash || stored.crc32c !== sent.crc32c || stored.size !== sent.size) return false;
  const created = stored.timeCreated === undefined ? Number.NaN : Date.parse(stored.timeCreated);
  return Number.isNaN(created) || created >= startedMs - CLOCK_SKEW_MS;
}

/** What an error answer may cost: its message is cut to 200 characters anyway. */
const ERROR_BODY_BYTES = 8192;

/** The start of an error answer; the rest is not read (the connection is closed instead). */
async function readErrorText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= ERROR_BODY_BYTES) break;
    }
  } finally {
    if (!res.complete) res.destroy();
  }
  return Buffer.concat(chunks, size).subarray(0, ERROR_BODY_BYTES).toString('utf8');
}

async function statusError(uri: string, response: IncomingMessage): Promise<StorageError> {
  const text = await readErrorText(response).catch(() => '');
  const message = jsonErrorMessage(text) ?? (text.slice(0, 200) || (response.statusMessage ?? ''));
  const status = response.statusCode ?? 0;
  const [code, retryable] = classify(status, message);
  const retryAfterMs = retryable ? parseRetryAfter(response.headers['retry-after']) : undefined;
  return new StorageError(code, `${uri}: HTTP ${status}: ${message}`, { retryable, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
}

function classify(status: number, message: string): [string, boolean] {
  if (status === 404) return ['NOT_FOUND', false];
  // We only ever send a precondition on create-only writes (ifGenerationMatch=0).
  if (status === 412) return ['ALREADY_EXISTS', false];
  if (status === 401 || status === 403) return ['PERMISSION_DENIED', false];
  if (status === 408 || status === 429 || status >= 500) return ['UNAVAILABLE', true];
  // The MD5 we sent does not match what arrived: corrupted on the way, nothing stored; send again.
  if (status === 400 && /md5|crc32c/i.test(message)) return ['CORRUPTED_IN_TRANSIT', true];
  return [`HTTP_${status}`, false];
}

function requestFailed(uri: string, err: unknown, timedOutAfterMs: number | undefined): StorageError {
  if (err instanceof StorageError) return err;
  if (timedOutAfterMs !== undefined) return new StorageError('UNAVAILABLE', `${uri}: no response within ${Math.round(timedOutAfterMs / 1000)} s`, { cause: err, retryable: true });
  // A socket error (ECONNRESET, ECONNREFUSED, …): the network's fault, worth another attempt.
  const code = (err as { code?: unknown }).code;
  return new StorageError('UNAVAILABLE', `${uri}: ${typeof code === 'string' ? code : (err as Error).message}`, { cause: err, retryable: true });
}

function jsonErrorMessage(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message;
  } catch {
    return undefined;
  }
}
