// Digest throughput: `node bench/digest.ts [--gib 2] [--reps 3] [--shard-mib 32] [--gcs-files 16] [--only local|gcs]`
//  (i)   one large file: sha256File vs `openssl dgst -sha256`, plus the createReadStream
//        alternatives our read loop was chosen against;
//  (ii)  a directory of 64 files x 32 MiB: digestLocalPath with 1 and 2 workers vs
//        model_signing 1.1.1 hashing the same directory (its default thread pool);
//  (iii) a directory model of 16 x 32 MiB in fake-gcs-server: digestStorage (concurrency 4) vs
//        downloading the same objects with the same client and the same concurrency, unhashed.
// Files are created under the OS temp directory, read once to warm the page cache (so the
// numbers measure hashing, not the disk), and removed afterwards.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

import { requireTool, toolPaths } from '../hack/env/tools.ts';
import { digestLocalPath, digestStorage, sha256File } from '../src/digest/index.ts';
import { createStorage } from '../src/storage/index.ts';
import { createBucket, startFakeGcs } from '../hack/env/fake-gcs.ts';
import { stopGroup } from '../hack/env/processes.ts';

const run = promisify(execFile);
const MiB = 1 << 20;
const { values } = parseArgs({ options: {
  gib: { type: 'string', default: '2' },
  reps: { type: 'string', default: '3' },
  'shard-mib': { type: 'string', default: '32' },
  'gcs-files': { type: 'string', default: '16' },
  only: { type: 'string' },
} });
const fileBytes = Number(values.gib) * 1024 * MiB;
const reps = Number(values.reps);

interface Row {
  name: string;
  bytes: number;
  seconds: number[];
  /** CPU seconds (user + system, all threads) per run: unlike wall time, barely moved by other load. */
  cpu: number[];
}

/** A case measures itself when it runs in another process; otherwise wall and CPU are taken here. */
type Case = { name: string; bytes: number; fn: () => Promise<unknown> };

async function timed(fn: Case['fn']): Promise<{ seconds: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const own = await fn();
  if (own && typeof own === 'object' && 'seconds' in own) return own as { seconds: number; cpu: number };
  const c = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** Runs the cases round-robin, so background load is spread evenly over them. */
async function measure(cases: Case[]): Promise<Row[]> {
  const rows: Row[] = cases.map((c) => ({ name: c.name, bytes: c.bytes, seconds: [], cpu: [] }));
  for (let r = 0; r < reps; r++) {
    for (const [i, c] of cases.entries()) {
      const t = await timed(c.fn);
      rows[i]?.seconds.push(t.seconds);
      rows[i]?.cpu.push(t.cpu);
    }
  }
  return rows;
}

async function writePattern(path: string, bytes: number, seed: number): Promise<void> {
  const block = Buffer.alloc(8 * MiB);
  for (let off = 0; off < block.length; off += 64) createHash('sha512').update(`${seed}:${off}`).digest().copy(block, off);
  const fh = await open(path, 'w');
  try {
    for (let done = 0; done < bytes; done += block.length) await fh.write(block, 0, Math.min(block.length, bytes - done));
  } finally {
    await fh.close();
  }
}

async function warm(path: string): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 8 * MiB })) void chunk;
}

async function streamSha256(path: string, highWaterMark: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function openssl(path: string): Promise<string> {
  const { stdout } = await run('openssl', ['dgst', '-sha256', '-r', path]);
  return stdout.split(' ')[0] ?? '';
}

/** openssl's wall and CPU time, from GNU time. */
async function timedOpenssl(path: string): Promise<{ seconds: number; cpu: number }> {
  const { stderr } = await run('/usr/bin/time', ['-f', '%e %U %S', 'openssl', 'dgst', '-sha256', path]);
  const [e, u, s] = (stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { seconds: e ?? NaN, cpu: (u ?? NaN) + (s ?? NaN) };
}

const MODEL_SIGNING = `
import sys
import model_signing
import time
t0, c0 = time.perf_counter(), time.process_time()
model_signing.hashing.Config().hash(sys.argv[1])
print(time.perf_counter() - t0, time.process_time() - c0)
`;

/** model_signing's own hashing time (wall, CPU of all its threads), excluding interpreter start-up. */
async function modelSigning(python: string, dir: string): Promise<{ seconds: number; cpu: number }> {
  const { stdout } = await run(python, ['-c', MODEL_SIGNING, dir], { maxBuffer: 1 << 20 });
  const [seconds, cpu] = stdout.trim().split(' ').map(Number);
  return { seconds: seconds ?? NaN, cpu: cpu ?? NaN };
}

function table(rows: Row[]): string {
  const lines = ['| case | best s | median s | best MB/s | CPU s (best) |', '|---|---:|---:|---:|---:|'];
  for (const r of rows) {
    const sorted = [...r.seconds].sort((a, b) => a - b);
    const best = sorted[0] ?? NaN;
    const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
    const cpu = Math.min(...r.cpu);
    lines.push(`| ${r.name} | ${best.toFixed(2)} | ${median.toFixed(2)} | ${(r.bytes / best / 1e6).toFixed(0)} | ${cpu.toFixed(2)} |`);
  }
  return lines.join('\n');
}

async function machine(): Promise<string> {
  const { stdout: ssl } = await run('openssl', ['version']);
  return `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${ssl.trim()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
}

async function singleFile(dir: string): Promise<Row[]> {
  const path = join(dir, 'weights.bin');
  await writePattern(path, fileBytes, 1);
  await warm(path);
  const expected = await openssl(path);
  if ((await sha256File(path)) !== expected) throw new Error('sha256File disagrees with openssl');
  const rows = await measure([
    { name: `openssl dgst -sha256, ${values.gib} GiB file`, bytes: fileBytes, fn: () => timedOpenssl(path) },
    { name: `sha256File (fs read loop, 2 x 1 MiB buffers)`, bytes: fileBytes, fn: () => sha256File(path) },
    { name: `createReadStream, highWaterMark 1 MiB`, bytes: fileBytes, fn: () => streamSha256(path, MiB) },
    { name: `createReadStream, highWaterMark 4 MiB`, bytes: fileBytes, fn: () => streamSha256(path, 4 * MiB) },
  ]);
  await rm(path);
  return rows;
}

async function directory(dir: string): Promise<Row[]> {
  const model = join(dir, 'model');
  await mkdir(model);
  const files = 64;
  const each = Number(values['shard-mib']) * MiB;
  for (let i = 0; i < files; i++) await writePattern(join(model, `shard-${String(i).padStart(2, '0')}.bin`), each, i);
  for (let i = 0; i < files; i++) await readFile(join(model, `shard-${String(i).padStart(2, '0')}.bin`));
  const python = requireTool(toolPaths().verifierPython, 'verifiers');
  const total = files * each;
  return measure([
    { name: `digestLocalPath, 64 x ${values['shard-mib']} MiB, concurrency 1 (calling thread)`, bytes: total, fn: () => digestLocalPath(model, { concurrency: 1 }) },
    { name: `digestLocalPath, 64 x ${values['shard-mib']} MiB, concurrency 2 (+1 worker thread)`, bytes: total, fn: () => digestLocalPath(model, { concurrency: 2 }) },
    { name: 'model_signing 1.1.1 hashing.Config().hash (default threads)', bytes: total, fn: () => modelSigning(python, model) },
  ]);
}

/**
 * (iii): the same client reads the objects in both cases, at the same concurrency; the only
 * difference is SHA-256. fake-gcs-server runs on the same cores, so both figures are floors.
 */
async function gcs(dir: string): Promise<Row[]> {
  const server = await startFakeGcs(requireTool(toolPaths().fakeGcsServer, 'fake-gcs-server'), dir);
  try {
    await createBucket(server.endpoint, 'bench', 'bench');
    const storage = createStorage({ gcs: { apiEndpoint: server.endpoint } });
    const files = Number(values['gcs-files']);
    const each = Number(values['shard-mib']) * MiB;
    const shard = Buffer.alloc(each);
    for (let i = 0; i < files; i++) {
      for (let off = 0; off < each; off += 64) createHash('sha512').update(`${i}:${off}`).digest().copy(shard, off);
      await storage.createOnly(`gs://bench/model/shard-${String(i).padStart(2, '0')}.bin`, shard, 'application/octet-stream');
    }
    const uri = 'gs://bench/model/';
    const concurrency = 4;
    const download = async (): Promise<number> => {
      const objects: string[] = [];
      for await (const o of storage.list(uri)) objects.push(o.uri);
      let bytes = 0;
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < objects.length) {
          for await (const chunk of await storage.openRead(objects[next++] as string)) bytes += (chunk as Buffer).length;
        }
      }));
      return bytes;
    };
    const total = files * each;
    return await measure([
      { name: `GCS download only (our client, ${files} x ${values['shard-mib']} MiB, ${concurrency} at once)`, bytes: total, fn: download },
      { name: `digestStorage, ${files} x ${values['shard-mib']} MiB in fake GCS, concurrency ${concurrency}`, bytes: total, fn: () => digestStorage(storage, uri, { concurrency }) },
    ]);
  } finally {
    await stopGroup(server.pid);
  }
}

const dir = await mkdtemp(join(tmpdir(), 'bench-digest-'));
try {
  console.log(`# digest benchmark: ${await machine()}; ${reps} rounds, best and median`);
  const single = values.only === 'gcs' ? [] : await singleFile(dir);
  const tree = values.only === 'gcs' ? [] : await directory(dir);
  const remote = values.only === 'local' ? [] : await gcs(dir);
  console.log(table([...single, ...tree, ...remote]));
  const best = (r: Row | undefined): number => Math.min(...(r?.seconds ?? [NaN]));
  if (single.length) console.log(`\nsha256File vs openssl: ${(best(single[0]) / best(single[1]) * 100).toFixed(0)} % of openssl's speed`);
  if (tree.length) console.log(`concurrency 2 vs 1: ${(best(tree[0]) / best(tree[1])).toFixed(2)}x; concurrency 2 vs model_signing: ${(best(tree[2]) / best(tree[1])).toFixed(2)}x`);
  if (remote.length) console.log(`GCS: digest at ${(best(remote[0]) / best(remote[1]) * 100).toFixed(0)} % of the download-only throughput`);
  console.log(`# load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
