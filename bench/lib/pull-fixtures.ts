// The pull benchmark's models, made once and kept between runs under $SLSA_ML_BENCH_DIR (default
// OS temp dir/slsa-ml-bench): random shards written out in full (no sparse files, no repeated
// blocks a file system or a transfer could shortcut), directory models that hard-link them (a
// sweep over 1-8 GiB costs the disk of its largest model once), and for each model signed
// provenance made with the real statement and signing code and stored through our GCS client's
// create-only upload, as the operator stores it.
import { randomFill } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { digestLocalPath } from '../../src/digest/index.ts';
import { provenanceLocations } from '../../src/layout/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { signRun, storeSiblings, writeKeyPair, type KeyFiles } from '../../test/support/cli.ts';

const MiB = 1 << 20;
const fill = promisify(randomFill);
export const BUCKET = 'bench';

export function benchDir(): string {
  return process.env.SLSA_ML_BENCH_DIR ?? join(tmpdir(), 'slsa-ml-bench');
}

/** Where the file server's objects live: ROOT/BUCKET/NAME. */
export function objectRoot(): string {
  return join(benchDir(), 'gcs');
}

async function sizeOf(path: string): Promise<number | undefined> {
  return (await stat(path).catch(() => undefined))?.size;
}

/** Writes `bytes` random bytes to `path` (through a temporary name, so a cut-short run leaves no short shard). */
async function writeRandom(path: string, bytes: number): Promise<void> {
  const block = Buffer.alloc(8 * MiB);
  const temp = `${path}.partial`;
  const fh = await open(temp, 'w');
  try {
    for (let done = 0; done < bytes; done += block.length) {
      await fill(block);
      await fh.write(block, 0, Math.min(block.length, bytes - done));
    }
  } finally {
    await fh.close();
  }
  await rename(temp, path);
}

/** Shard files `shards/<bytes>/shard-<i>.bin`, i < count, made where missing. */
export async function ensureShards(count: number, bytes: number, log: (line: string) => void): Promise<string[]> {
  const dir = join(benchDir(), 'shards', String(bytes));
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `shard-${String(i).padStart(5, '0')}.bin`);
    if ((await sizeOf(path)) !== bytes) {
      log(`writing ${path} (${(bytes / MiB).toFixed(0)} MiB of random bytes)`);
      await writeRandom(path, bytes);
    }
    paths.push(path);
  }
  return paths;
}

export interface BenchModel {
  /** e.g. `8x512MiB` */
  readonly name: string;
  /** gs://bench/models/NAME/ */
  readonly uri: string;
  /** The objects' directory under objectRoot(). */
  readonly dir: string;
  readonly shards: number;
  readonly shardBytes: number;
  readonly totalBytes: number;
  /** Object names (without bucket), in order. */
  readonly objects: readonly string[];
}

/** A directory model of `count` shards of `bytes`, as checkpoint shards are named. */
export async function ensureModel(count: number, bytes: number, log: (line: string) => void): Promise<BenchModel> {
  const shards = await ensureShards(count, bytes, log);
  const name = `${count}x${bytes % MiB === 0 ? `${bytes / MiB}MiB` : `${bytes}B`}`;
  const dir = join(objectRoot(), BUCKET, 'models', name);
  await mkdir(dir, { recursive: true });
  const objects: string[] = [];
  for (const [i, shard] of shards.entries()) {
    const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`;
    const path = join(dir, file);
    const [a, b] = await Promise.all([stat(path).catch(() => undefined), stat(shard)]);
    if (a?.ino !== b.ino) {
      await rm(path, { force: true });
      await link(shard, path);
    }
    objects.push(`models/${name}/${file}`);
  }
  // Nothing else in the model (a stale file from an earlier layout would be pulled too).
  for (const entry of await readdir(dir)) if (!objects.includes(`models/${name}/${entry}`)) await rm(join(dir, entry), { recursive: true, force: true });
  return { name, uri: `gs://${BUCKET}/models/${name}/`, dir, shards: count, shardBytes: bytes, totalBytes: count * bytes, objects };
}

/** The bench's signing key, made once; provenance made with an earlier key is removed with it. */
export async function ensureKey(): Promise<KeyFiles> {
  const dir = join(benchDir(), 'keys');
  const privatePath = join(dir, 'cosign.key');
  if (existsSync(privatePath) && existsSync(join(dir, 'cosign.pub'))) {
    return { privatePem: await readFile(privatePath, 'utf8'), publicPem: await readFile(join(dir, 'cosign.pub'), 'utf8'), privatePath, publicPath: join(dir, 'cosign.pub') };
  }
  await rm(join(objectRoot(), BUCKET, 'models'), { recursive: true, force: true }).catch(() => undefined);
  await mkdir(dir, { recursive: true });
  return writeKeyPair(dir, 'cosign');
}

/**
 * Signed provenance next to the model, uploaded through the file server (our client's multipart
 * create-only). Kept while the model's shards stay the same files; measured from the files on disk,
 * which is what the server serves.
 */
export async function ensureProvenance(model: BenchModel, key: KeyFiles, endpoint: string, log: (line: string) => void): Promise<void> {
  const loc = provenanceLocations(model.uri);
  const onDisk = (uri: string): string => join(objectRoot(), BUCKET, ...uri.slice(`gs://${BUCKET}/`.length).split('/'));
  const stamp = join(benchDir(), 'keys', `${model.name}.inodes`);
  const inodes = (await Promise.all(model.objects.map((o) => stat(join(objectRoot(), BUCKET, o))))).map((s) => `${s.ino}:${s.mtimeMs}`).join(',');
  if (existsSync(onDisk(loc.bundle)) && existsSync(onDisk(loc.envelope)) && (await readFile(stamp, 'utf8').catch(() => '')) === inodes) return;
  log(`signing provenance for ${model.uri} (measuring ${(model.totalBytes / MiB).toFixed(0)} MiB)`);
  await rm(onDisk(loc.bundle), { force: true });
  await rm(onDisk(loc.envelope), { force: true });
  const measured = await digestLocalPath(model.dir, { concurrency: 2 });
  const storage = createStorage({ gcs: { apiEndpoint: endpoint } });
  await storeSiblings(storage, model.uri, await signRun({ modelUri: model.uri, frameworks: ['pkg:pypi/torch@2.8.0', 'pkg:pypi/safetensors@0.6.2'] }, measured, { privatePem: key.privatePem }));
  await writeFile(stamp, inodes);
}
