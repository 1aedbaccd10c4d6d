// A small client for the Cloud Storage JSON API: the five calls slsa-ml makes, over Node's own
// fetch, each with a deadline. It replaces @google-cloud/storage on every path we use because
// that client re-pipes a retried download into a stream the caller already closed (an uncaught
// ERR_STREAM_UNABLE_TO_PIPE that ended the operator under connection resets), piles listeners on
// retried streams, validates downloads with a JavaScript CRC32C that costs more CPU than our
// SHA-256 (our digest is what we compare and sign, so that check adds nothing), and loads tens of
// MB of modules. Retries are the caller's: the operator retries with its own backoff and budget.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { StorageError } from './errors.ts';

const GOOGLE = 'https://storage.googleapis.com';
const SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';

export interface GcsHttpOptions {
  /** Another endpoint (an emulator); plain http endpoints get no credentials. */
  readonly apiEndpoint?: string;
  readonly projectId?: string;
  /** Deadline of each request until its response headers arrive. */
  readonly requestMs: number;
}

/** Object metadata as the JSON API returns it (numbers as strings). */
export interface GcsObject {
  readonly name: string;
  readonly size?: string;
  readonly generation?: string;
  readonly timeCreated?: string;
  readonly md5Hash?: string;
}

export interface GcsPage {
  readonly items: GcsObject[];
  readonly nextPageToken?: string;
}

type Token = () => Promise<string | undefined>;

export class GcsHttp {
  readonly #base: string;
  readonly #requestMs: number;
  readonly #token: Token;

  constructor(options: GcsHttpOptions) {
    const endpoint = options.apiEndpoint ?? GOOGLE;
    this.#base = (endpoint.includes('://') ? endpoint : `https://${endpoint}`).replace(/\/+$/, '');
    this.#requestMs = options.requestMs;
    this.#token = this.#base.startsWith('http://') ? () => Promise.resolve(undefined) : applicationDefaultToken();
  }

  async getMetadata(bucket: string, name: string, generation?: string): Promise<GcsObject> {
    const query = generation === undefined ? '' : `?generation=${generation}`;
    return (await this.#json('GET', `/storage/v1/b/${enc(bucket)}/o/${enc(name)}${query}`, `gs://${bucket}/${name}`)) as GcsObject;
  }

  async list(bucket: string, prefix: string, pageSize: number, pageToken?: string): Promise<GcsPage> {
    const query = new URLSearchParams({ prefix, maxResults: String(pageSize), fields: 'items(name,size,generation,timeCreated),nextPageToken' });
    if (pageToken) query.set('pageToken', pageToken);
    const page = (await this.#json('GET', `/storage/v1/b/${enc(bucket)}/o?${query.toString()}`, `gs://${bucket}/${prefix}`)) as Partial<GcsPage>;
    return { items: page.items ?? [], ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  /** The object's bytes as a stream; `signal` aborts the download. */
  async download(bucket: string, name: string, generation: string | undefined, signal: AbortSignal): Promise<Readable> {
    const query = generation === undefined ? '?alt=media' : `?alt=media&generation=${generation}`;
    const response = await this.#fetch('GET', `/storage/v1/b/${enc(bucket)}/o/${enc(name)}${query}`, `gs://${bucket}/${name}`, { signal });
    if (!response.body) throw new StorageError('UNAVAILABLE', `gs://${bucket}/${name}: empty response`, { retryable: true });
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  }

  /** A multipart upload with ifGenerationMatch=0: GCS (and fake-gcs-server) refuse it with 412 when the name exists. */
  async createOnly(bucket: string, name: string, data: Buffer, contentType: string): Promise<GcsObject> {
    const boundary = `slsa-ml-${randomBytes(12).toString('hex')}`;
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify({ name, contentType })}\r\n`),
      Buffer.from(`--${boundary}\r\ncontent-type: ${contentType}\r\n\r\n`),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const path = `/upload/storage/v1/b/${enc(bucket)}/o?uploadType=multipart&ifGenerationMatch=0`;
    return (await this.#json('POST', path, `gs://${bucket}/${name}`, { body, contentType: `multipart/related; boundary=${boundary}` })) as GcsObject;
  }

  /** A small JSON answer: the deadline covers its body too. */
  async #json(method: string, path: string, uri: string, options: { body?: Buffer; contentType?: string } = {}): Promise<unknown> {
    const deadline = AbortSignal.timeout(this.#requestMs);
    try {
      return await (await this.#fetch(method, path, uri, { ...options, signal: deadline })).json();
    } catch (err) {
      throw requestFailed(uri, err, deadline.aborted ? this.#requestMs : undefined);
    }
  }

  async #fetch(method: string, path: string, uri: string, options: { body?: Buffer; contentType?: string; signal?: AbortSignal }): Promise<Response> {
    // The deadline covers the response headers; a body is the reader's to watch (stall deadline).
    const headersDeadline = new AbortController();
    const timer = setTimeout(() => headersDeadline.abort(), this.#requestMs);
    const signal = options.signal ? AbortSignal.any([options.signal, headersDeadline.signal]) : headersDeadline.signal;
    let response: Response;
    try {
      const token = await this.#token();
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(options.contentType ? { 'content-type': options.contentType } : {}),
        },
        ...(options.body ? { body: options.body } : {}),
        signal,
      });
    } catch (err) {
      const timedOut = headersDeadline.signal.aborted || (options.signal?.reason as Error | undefined)?.name === 'TimeoutError';
      throw requestFailed(uri, err, timedOut ? this.#requestMs : undefined);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw await statusError(uri, response);
    return response;
  }
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

async function statusError(uri: string, response: Response): Promise<StorageError> {
  const text = await response.text().catch(() => '');
  const message = jsonErrorMessage(text) ?? (text.slice(0, 200) || response.statusText);
  const status = response.status;
  const [code, retryable] = status === 404 ? ['NOT_FOUND', false]
    // We only ever send a precondition on create-only writes (ifGenerationMatch=0).
    : status === 412 ? ['ALREADY_EXISTS', false]
      : status === 401 || status === 403 ? ['PERMISSION_DENIED', false]
        : status === 408 || status === 429 || status >= 500 ? ['UNAVAILABLE', true]
          : [`HTTP_${status}`, false];
  return new StorageError(code, `${uri}: HTTP ${status}: ${message}`, { retryable: retryable });
}

function requestFailed(uri: string, err: unknown, timedOutAfterMs: number | undefined): StorageError {
  if (err instanceof StorageError) return err;
  if (timedOutAfterMs !== undefined) return new StorageError('UNAVAILABLE', `${uri}: no response within ${Math.round(timedOutAfterMs / 1000)} s`, { cause: err, retryable: true });
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  // fetch reports every network failure as "fetch failed" with the socket error as its cause.
  return new StorageError('UNAVAILABLE', `${uri}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { cause: err, retryable: true });
}

function jsonErrorMessage(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message;
  } catch {
    return undefined;
  }
}
