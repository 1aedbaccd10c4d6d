// One measured download, in a process of its own (as `slsa-ml pull` runs in its own), so every
// case pays the same start-up and its peak RSS is its own:
//   node bench/lib/pull-child.ts MODE --endpoint URL --uri gs://B/PREFIX/ [--dest DIR] [--concurrency N] [--src CHECKOUT]
// MODE:
//   plain-write     the baseline for pull: node:http GETs piped into fs.createWriteStream, at most
//                   N objects at once, no hashing — what a plain downloader written in Node does
//   plain-discard   the baseline for the operator: the same GETs, bytes counted and dropped
//   client-discard  our GCS client (GcsStorage.openRead) read and dropped: the client's own cost
//   digest          digestStorage without copyTo: the operator's measurement
// Prints one JSON line: {bytes, seconds, sha256?}; seconds from the first request to the last byte.
// --src: digest and client-discard use the src/ of another checkout (a before/after comparison).
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { Agent, get, type IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import type * as DigestModule from '../../src/digest/index.ts';
import { mapLimited } from '../../src/digest/map-limited.ts';
import type * as StorageModule from '../../src/storage/index.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { endpoint: { type: 'string' }, uri: { type: 'string' }, dest: { type: 'string' }, concurrency: { type: 'string', default: '8' }, src: { type: 'string' } },
});
const checkout = values.src ?? join(import.meta.dirname, '..', '..');
const { digestStorage } = (await import(pathToFileURL(join(checkout, 'src/digest/index.ts')).href)) as typeof DigestModule;
const { createStorage } = (await import(pathToFileURL(join(checkout, 'src/storage/index.ts')).href)) as typeof StorageModule;
const [mode] = positionals;
const endpoint = values.endpoint ?? '';
const uri = values.uri ?? '';
const concurrency = Number(values.concurrency);
const m = /^gs:\/\/([^/]+)\/(.*)$/.exec(uri);
if (!m || !endpoint) throw new Error('usage: pull-child.ts MODE --endpoint URL --uri gs://BUCKET/PREFIX/ [--dest DIR] [--concurrency N]');
const bucket = m[1] as string;
const prefix = m[2] as string;
const agent = new Agent({ keepAlive: true });

function request(path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get(`${endpoint}${path}`, { agent }, (res) => {
      if (res.statusCode === 200) resolve(res);
      else reject(new Error(`${path}: HTTP ${res.statusCode ?? 0}`));
    }).on('error', reject);
  });
}

async function json(path: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of await request(path)) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

interface Listed { name: string; size: string }

async function list(): Promise<Listed[]> {
  const out: Listed[] = [];
  let token: string | undefined;
  do {
    const q = new URLSearchParams({ prefix, ...(token ? { pageToken: token } : {}) });
    const page = (await json(`/storage/v1/b/${bucket}/o?${q.toString()}`)) as { items?: Listed[]; nextPageToken?: string };
    out.push(...(page.items ?? []));
    token = page.nextPageToken;
  } while (token);
  return out.sort((a, b) => Number(b.size) - Number(a.size));
}

const media = (name: string): string => `/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`;

async function plainWrite(dest: string): Promise<number> {
  const objects = await list();
  const sizes = await mapLimited(objects, concurrency, async (o) => {
    const path = join(dest, o.name.slice(prefix.length));
    await mkdir(dirname(path), { recursive: true });
    await pipeline(await request(media(o.name)), createWriteStream(path));
    return Number(o.size);
  });
  return sizes.reduce((a, b) => a + b, 0);
}

async function plainDiscard(): Promise<number> {
  const objects = await list();
  const sizes = await mapLimited(objects, concurrency, async (o) => {
    let n = 0;
    const res = await request(media(o.name));
    res.on('data', (c: Buffer) => { n += c.length; });
    await new Promise((resolve, reject) => res.on('end', resolve).on('error', reject));
    return n;
  });
  return sizes.reduce((a, b) => a + b, 0);
}

async function clientDiscard(): Promise<number> {
  const storage = createStorage({ gcs: { apiEndpoint: endpoint } });
  const objects: string[] = [];
  for await (const o of storage.list(uri)) objects.push(o.uri);
  const sizes = await mapLimited(objects, concurrency, async (o) => {
    let n = 0;
    for await (const c of await storage.openRead(o)) n += (c as Buffer).length;
    return n;
  });
  return sizes.reduce((a, b) => a + b, 0);
}

const t0 = performance.now();
let result: { bytes: number; sha256?: string };
switch (mode) {
  case 'plain-write': result = { bytes: await plainWrite(values.dest ?? '') }; break;
  case 'plain-discard': result = { bytes: await plainDiscard() }; break;
  case 'client-discard': result = { bytes: await clientDiscard() }; break;
  case 'digest': {
    const d = await digestStorage(createStorage({ gcs: { apiEndpoint: endpoint } }), uri, { concurrency });
    result = { bytes: d.totalBytes, sha256: d.sha256 };
    break;
  }
  default: throw new Error(`unknown mode ${String(mode)}`);
}
process.stdout.write(`${JSON.stringify({ ...result, seconds: (performance.now() - t0) / 1000 })}\n`);
agent.destroy();
