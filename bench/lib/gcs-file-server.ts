// A minimal Cloud Storage JSON API over a local directory, for benchmarks with multi-GB objects:
// the calls our client (src/storage/gcs-http.ts) makes and nothing else. fake-gcs-server holds
// every object in memory and needs about 6x an object's size to accept one upload (13.7 GB for
// 2 GiB), so it cannot hold a multi-GB model on this machine; here an object is a file, served
// from the page cache, and nothing is buffered.
//
//   ROOT/BUCKET/NAME         object gs://BUCKET/NAME (a "/" in NAME is a directory)
//   ROOT/.uploads/           uploads in progress (moved into place by link(): create-only)
//
// Calls:
//   GET  /storage/v1/b/B/o/NAME[?generation=G]            metadata (name, bucket, size, generation,
//                                                         metageneration, timeCreated, updated; md5Hash
//                                                         only for objects uploaded here)
//   GET  /storage/v1/b/B/o?prefix=&maxResults=&pageToken=&startOffset=&endOffset=
//                                                         a page of objects in name order (UTF-8 bytes)
//   GET  /storage/v1/b/B/o/NAME?alt=media[&generation=G]  the bytes (also /download/storage/v1/…);
//                                                         no Range: our client never sends one
//   POST /upload/storage/v1/b/B/o?uploadType=multipart|media[&name=N][&ifGenerationMatch=0]
//                                                         a new object; 412 when it exists and the
//                                                         precondition is 0
// A generation is the file's mtime in microseconds (as GCS's are), so a file replaced on disk gets
// a new one, and a read at a generation that is gone is 404 as on GCS. crc32c is never reported
// (nothing of ours reads it; GCS too omits md5Hash for composite objects).
//
// `--slow NAME=MiBps` (repeatable) rate-limits every download of one object, so a bench can show
// that one slow stream does not set the pace of the others.
//
// As a process: `node bench/lib/gcs-file-server.ts --root DIR [--port 0] [--slow NAME=MiBps]`
// prints `{"endpoint":"http://127.0.0.1:PORT"}` once it listens. startGcsFileServer() runs it so.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { link, mkdir, open, readdir, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const MiB = 1 << 20;
/** Read size when serving a file: 1 MiB reads, each written to the socket while the next is read. */
const SERVE_CHUNK = MiB;
const MAX_UPLOAD = 64 * MiB;
const UPLOADS = '.uploads';

export interface GcsFileServerOptions {
  /** Object name (without bucket) → bytes per second for its downloads. */
  readonly slow?: ReadonlyMap<string, number>;
}

class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface ObjectFile {
  readonly name: string;
  readonly stats: Stats;
}

export function createGcsFileServer(root: string, options: GcsFileServerOptions = {}): Server {
  const md5s = new Map<string, string>();
  return createServer((req, res) => {
    handle(root, options, md5s, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (res.headersSent) {
        res.destroy(err as Error);
        return;
      }
      sendJson(res, status, { error: { code: status, message: (err as Error).message } });
    });
  });
}

async function handle(root: string, options: GcsFileServerOptions, md5s: Map<string, string>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
  if (upload && req.method === 'POST') return uploadObject({ root, md5s, bucket: decodeURIComponent(upload[1] as string), url }, req, res);
  if (req.method !== 'GET') throw new HttpError(405, `${req.method ?? ''} not supported`);
  const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
  if (list) return listObjects(root, decodeURIComponent(list[1] as string), url, res);
  const object = /^(?:\/download)?\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
  if (!object) throw new HttpError(404, `no such call: ${url.pathname}`);
  const bucket = decodeURIComponent(object[1] as string);
  const name = decodeURIComponent(object[2] as string);
  if (url.searchParams.get('alt') === 'media') return download(root, options, { bucket, name, generation: url.searchParams.get('generation') }, res);
  const found = await objectStats(root, bucket, name, url.searchParams.get('generation'));
  sendJson(res, 200, resource(bucket, { name, stats: found }, md5s));
}

function objectPath(root: string, bucket: string, name: string): string {
  const segments = name.split('/');
  if (bucket.startsWith('.') || bucket.includes(sep) || segments.some((s) => s === '' || s === '.' || s === '..')) throw new HttpError(400, `unsupported object name ${JSON.stringify(name)}`);
  return join(root, bucket, ...segments);
}

function generationOf(stats: Stats): string {
  return String(Math.floor(stats.mtimeMs * 1000));
}

async function objectStats(root: string, bucket: string, name: string, generation: string | null): Promise<Stats> {
  const stats = await stat(objectPath(root, bucket, name)).catch(() => undefined);
  if (!stats?.isFile() || (generation !== null && generation !== generationOf(stats))) throw new HttpError(404, `No such object: ${bucket}/${name}`);
  return stats;
}

function resource(bucket: string, object: ObjectFile, md5s: ReadonlyMap<string, string>): Record<string, string> {
  const generation = generationOf(object.stats);
  const md5 = md5s.get(`${bucket}/${object.name}#${generation}`);
  return {
    kind: 'storage#object',
    bucket,
    name: object.name,
    size: String(object.stats.size),
    generation,
    metageneration: '1',
    timeCreated: object.stats.mtime.toISOString(),
    updated: object.stats.mtime.toISOString(),
    ...(md5 ? { md5Hash: md5 } : {}),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Every object under `dir` (relative names prefixed with `base`), recursively. */
async function walk(dir: string, base: string, out: ObjectFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await walk(path, `${base}${e.name}/`, out);
    else if (e.isFile()) out.push({ name: `${base}${e.name}`, stats: await stat(path) });
  }
}

async function listObjects(root: string, bucket: string, url: URL, res: ServerResponse): Promise<void> {
  if (bucket.startsWith('.') || bucket.includes(sep)) throw new HttpError(400, 'bad bucket');
  const prefix = url.searchParams.get('prefix') ?? '';
  const max = Math.min(Number(url.searchParams.get('maxResults') ?? 1000) || 1000, 1000);
  const after = url.searchParams.get('pageToken');
  const start = url.searchParams.get('startOffset');
  const end = url.searchParams.get('endOffset');
  // Only the directory the prefix names needs walking.
  const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  const all: ObjectFile[] = [];
  await walk(join(root, bucket, ...base.split('/').filter(Boolean)), base, all);
  const byte = (s: string): Buffer => Buffer.from(s, 'utf8');
  const matching = all
    .filter((o) => o.name.startsWith(prefix))
    .filter((o) => start === null || Buffer.compare(byte(o.name), byte(start)) >= 0)
    .filter((o) => end === null || Buffer.compare(byte(o.name), byte(end)) < 0)
    .filter((o) => after === null || Buffer.compare(byte(o.name), Buffer.from(after, 'base64url')) > 0)
    .sort((a, b) => Buffer.compare(byte(a.name), byte(b.name)));
  const page = matching.slice(0, max);
  const last = page.at(-1);
  sendJson(res, 200, {
    kind: 'storage#objects',
    items: page.map((o) => resource(bucket, o, new Map())),
    ...(matching.length > max && last ? { nextPageToken: Buffer.from(last.name).toString('base64url') } : {}),
  });
}

interface Read {
  readonly bucket: string;
  readonly name: string;
  readonly generation: string | null;
}

async function download(root: string, options: GcsFileServerOptions, read: Read, res: ServerResponse): Promise<void> {
  // The generation is checked on the open file, so the bytes sent are that generation's.
  const fh = await open(objectPath(root, read.bucket, read.name), 'r').catch(() => undefined);
  if (!fh) throw new HttpError(404, `No such object: ${read.bucket}/${read.name}`);
  const stats = await fh.stat();
  if (!stats.isFile() || (read.generation !== null && read.generation !== generationOf(stats))) {
    await fh.close();
    throw new HttpError(404, `No such object: ${read.bucket}/${read.name}`);
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': stats.size,
    'x-goog-generation': generationOf(stats),
    'x-goog-stored-content-length': stats.size,
  });
  try {
    await sendFile(fh, stats.size, res, options.slow?.get(read.name));
  } finally {
    await fh.close();
  }
}

/**
 * Sends the file through two reused buffers, the next read while the last write drains: fresh
 * buffers per read (createReadStream) cost this process about twice the CPU, and this process
 * shares the machine's cores with the client being measured. Throttled: smaller writes, paced.
 */
async function sendFile(fh: FileHandle, size: number, res: ServerResponse, bytesPerSecond: number | undefined): Promise<void> {
  // Throttled: about 50 paced writes a second (a timer is no finer than a millisecond).
  const chunk = bytesPerSecond ? Math.min(SERVE_CHUNK, Math.max(64 * 1024, Math.round(bytesPerSecond / 50))) : SERVE_CHUNK;
  const buffers = [Buffer.allocUnsafeSlow(chunk), Buffer.allocUnsafeSlow(chunk)];
  let written: Promise<void> = Promise.resolve();
  const t0 = performance.now();
  for (let pos = 0, i = 0; pos < size; i++) {
    const buffer = buffers[i % 2] as Buffer;
    const { bytesRead } = await fh.read(buffer, 0, Math.min(chunk, size - pos), pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    await written;
    if (res.destroyed) return;
    written = writeChunk(res, buffer.subarray(0, bytesRead));
    if (bytesPerSecond) await sleep(Math.max(0, t0 + (pos / bytesPerSecond) * 1000 - performance.now()));
  }
  await written;
  await new Promise<void>((resolve) => res.end(resolve));
}

/** Resolves once the socket has taken the chunk (its buffer may then be reused). */
function writeChunk(res: ServerResponse, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    res.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_UPLOAD) throw new HttpError(413, 'upload too large for this server');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** The two parts of a multipart/related upload: JSON metadata, then the bytes. */
function multipart(body: Buffer, contentType: string): { name: string; data: Buffer } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new HttpError(400, 'multipart upload without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next === -1) break;
    // Each part: headers, a blank line, content, then CRLF before the next delimiter.
    const part = body.subarray(at + delimiter.length + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    parts.push(part.subarray(split + 4));
    at = next;
  }
  const [meta, data] = parts;
  if (!meta || !data) throw new HttpError(400, 'multipart upload needs a metadata part and a media part');
  const name = (JSON.parse(meta.toString('utf8')) as { name?: unknown }).name;
  if (typeof name !== 'string') throw new HttpError(400, 'multipart metadata without a name');
  return { name, data };
}

interface Upload {
  readonly root: string;
  readonly md5s: Map<string, string>;
  readonly bucket: string;
  readonly url: URL;
}

async function uploadObject({ root, md5s, bucket, url }: Upload, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const type = url.searchParams.get('uploadType');
  const { name, data } = type === 'multipart' ? multipart(body, req.headers['content-type'] ?? '')
    : type === 'media' ? { name: url.searchParams.get('name') ?? '', data: body }
      : (() => { throw new HttpError(400, `uploadType ${type ?? '(none)'} not supported`); })();
  const target = objectPath(root, bucket, name);
  const temp = join(root, UPLOADS, randomBytes(8).toString('hex'));
  await mkdir(dirname(temp), { recursive: true });
  await mkdir(dirname(target), { recursive: true });
  await writeFile(temp, data);
  try {
    if (url.searchParams.get('ifGenerationMatch') === '0') {
      // link() never replaces: the create-only precondition, atomically.
      await link(temp, target).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? new HttpError(412, `At least one of the pre-conditions you specified did not hold: ${bucket}/${name} exists`) : err;
      });
    } else {
      await rm(target, { force: true });
      await link(temp, target);
    }
  } finally {
    await rm(temp, { force: true });
  }
  const stats = await stat(target);
  md5s.set(`${bucket}/${name}#${generationOf(stats)}`, createHash('md5').update(data).digest('base64'));
  sendJson(res, 200, resource(bucket, { name, stats }, md5s));
}

export interface RunningServer {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs the server as its own process (its CPU is then its own), and resolves once it listens. */
export async function startGcsFileServer(root: string, options: { slow?: ReadonlyMap<string, number> } = {}): Promise<RunningServer> {
  const slow = [...(options.slow ?? new Map<string, number>())].flatMap(([name, bps]) => ['--slow', `${name}=${bps / MiB}`]);
  const child = spawn(process.execPath, [import.meta.filename, '--root', root, ...slow], { stdio: ['ignore', 'pipe', 'inherit'] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { endpoint: string }).endpoint);
    });
    child.once('exit', (code) => reject(new Error(`gcs-file-server exited (${code ?? 'signal'}) before it listened`)));
  });
  return {
    endpoint,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { root: { type: 'string' }, port: { type: 'string', default: '0' }, slow: { type: 'string', multiple: true, default: [] } } });
  if (!values.root) throw new Error('usage: gcs-file-server.ts --root DIR [--port N] [--slow NAME=MiBps]');
  const slow = new Map(values.slow.map((s) => {
    const at = s.lastIndexOf('=');
    return [s.slice(0, at), Number(s.slice(at + 1)) * MiB] as const;
  }));
  await mkdir(values.root, { recursive: true });
  const server = createGcsFileServer(values.root, { slow });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(Number(values.port), '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}` })}\n`);
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

if (import.meta.filename === process.argv[1]) await main();
