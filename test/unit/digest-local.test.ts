import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { DigestError, digestLocalPath, sha256File, sha256Stream } from '../../src/digest/index.ts';
import type { DigestProgress } from '../../src/digest/index.ts';
import { WORKER_THRESHOLD_BYTES } from '../../src/digest/digest-local.ts';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const isDigestError = (code: string, pathPart?: string) => (e: unknown) =>
  e instanceof DigestError && e.code === code && (pathPart === undefined || e.message.includes(pathPart));

let scratch: string;
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'digest-local-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Cheap large content that still differs per file and per position. */
function distinctBytes(seed: number, size: number): Buffer {
  const block = createHash('sha512').update(String(seed)).digest();
  const out = Buffer.allocUnsafe(size);
  for (let off = 0; off < size; off += block.length) block.copy(out, off, 0, Math.min(block.length, size - off));
  return out;
}

// Large enough that several files are hashed in worker threads, not on one thread.
const LARGE_FILE = WORKER_THRESHOLD_BYTES / 4;
const LARGE_TOTAL = 4 * LARGE_FILE + 1;
let large: string | undefined;
function largeTree(): string {
  if (large) return large;
  const files: Record<string, Buffer> = { tiny: Buffer.from('t') };
  for (let i = 0; i < 4; i++) files[`shard-${i}/w.bin`] = distinctBytes(i, LARGE_FILE);
  large = tree('large', files);
  return large;
}

function tree(name: string, files: Record<string, string | Buffer>): string {
  const root = join(scratch, name);
  mkdirSync(root, { recursive: true });
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  return root;
}

// The tree and its root digest were checked against model_signing 1.1.1
// (hashing.Config().hash → in-toto subject); test/integration/digest-model-signing.test.ts
// repeats that check live.
const GOLDEN_FILES = {
  'saved_model.pb': 'pb',
  'variables/variables.index': 'idx',
  'variables/variables.data-00000-of-00001': 'data',
  'assets/vocab.txt': 'vocab',
  'a-b': 'ab',
  'a/b': 'a_b',
  '.gitignore': 'gi',
  '.git/config': 'gc',
  '.github/x': 'gh',
  'nested/deep/f': 'd',
  '.hidden': 'h',
  'variables.index2': 'x',
  'z.txt': 'y',
  'é': 'e',
  z: 'e2',
};
const GOLDEN_ROOT = 'a2a95f3c5c9d79109d416bea90b1902091b0b361eec70161d1654e02b8748dfd';

describe('when a local file is digested', () => {
  it('gives the sha256 of its bytes', async () => {
    const root = tree('single', { 'model.pth': 'weights' });
    const d = await digestLocalPath(join(root, 'model.pth'));
    assert.deepEqual(d, { kind: 'file', sha256: sha256('weights'), fileCount: 1, totalBytes: 7 });
    assert.equal(await sha256File(join(root, 'model.pth')), sha256('weights'));
  });

  it('hashes files larger than one read chunk, and empty files', async () => {
    const big = randomBytes(3 * (1 << 20) + 5);
    const root = tree('chunks', { big, empty: '' });
    assert.equal((await digestLocalPath(join(root, 'big'))).sha256, sha256(big));
    assert.equal((await digestLocalPath(join(root, 'empty'))).sha256, sha256(''));
  });

  it('hashes a file far larger than the memory it uses', async () => {
    const path = join(scratch, 'sparse.bin');
    const size = 256 << 20;
    writeFileSync(path, '');
    truncateSync(path, size); // sparse: no disk, reads as zeros
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const d = await digestLocalPath(path, { onProgress: () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)) });
    assert.equal(d.totalBytes, size);
    const zeros = createHash('sha256');
    for (let i = 0; i < size >> 20; i++) zeros.update(Buffer.alloc(1 << 20));
    assert.equal(d.sha256, zeros.digest('hex'));
    assert.ok(peak - before < 16 << 20, `buffers grew by ${peak - before} bytes while hashing ${size}`);
  });

  it('follows a symlink the user names directly', async () => {
    const root = tree('named-link', { 'blob': 'weights' });
    symlinkSync(join(root, 'blob'), join(root, 'model.pth'));
    assert.equal((await digestLocalPath(join(root, 'model.pth'))).sha256, sha256('weights'));
  });

  it('says clearly when the path does not exist', async () => {
    await assert.rejects(digestLocalPath(join(scratch, 'missing')), isDigestError('NOT_FOUND', 'missing'));
  });
});

describe('when a local directory is digested', () => {
  it('gives the model-signing root digest, skipping git files, in canonical order', async () => {
    const root = tree('golden', GOLDEN_FILES);
    mkdirSync(join(root, 'emptydir'));
    const d = await digestLocalPath(root);
    assert.equal(d.kind, 'directory');
    assert.equal(d.sha256, GOLDEN_ROOT);
    assert.equal(d.fileCount, 12);
    assert.deepEqual(d.files?.map((f) => f.path), [
      '.hidden', 'a/b', 'a-b', 'assets/vocab.txt', 'nested/deep/f', 'saved_model.pb',
      'variables/variables.data-00000-of-00001', 'variables/variables.index', 'variables.index2', 'z', 'z.txt', 'é',
    ]);
    assert.equal(d.files?.find((f) => f.path === 'a/b')?.sha256, sha256('a_b'));
  });

  it('gives the same digest with one file at a time as with several in parallel', async () => {
    const root = largeTree();
    const one = await digestLocalPath(root, { concurrency: 1 });
    const four = await digestLocalPath(root, { concurrency: 4 });
    assert.deepEqual(four, one);
    assert.equal(one.totalBytes, LARGE_TOTAL);
    assert.equal(one.files?.find((f) => f.path === 'shard-0/w.bin')?.sha256, sha256(distinctBytes(0, LARGE_FILE)));
  });

  it('reports progress that ends at exactly all bytes and all files', async () => {
    for (const concurrency of [1, 2]) {
      const seen: DigestProgress[] = [];
      await digestLocalPath(largeTree(), { concurrency, onProgress: (p) => seen.push(p) });
      assert.ok(seen.length > 10, 'progress is reported while large files are read');
      assert.deepEqual(seen[0], { bytesDone: 0, bytesTotal: LARGE_TOTAL, filesDone: 0, filesTotal: 5 });
      assert.deepEqual(seen.at(-1), { bytesDone: LARGE_TOTAL, bytesTotal: LARGE_TOTAL, filesDone: 5, filesTotal: 5 });
      for (let i = 1; i < seen.length; i++) assert.ok((seen[i]?.bytesDone ?? 0) >= (seen[i - 1]?.bytesDone ?? 0));
    }
  });

  it('refuses a symlink inside the model, naming it, instead of following it', async () => {
    const root = tree('symlink', { 'real.bin': 'x', 'sub/ok': 'y' });
    symlinkSync(join(root, 'real.bin'), join(root, 'sub', 'link.bin'));
    await assert.rejects(digestLocalPath(root), isDigestError('SYMLINK', join(root, 'sub', 'link.bin')));
  });

  it('refuses a symlink to a directory too', async () => {
    const root = tree('dirlink', { 'a/x': 'x' });
    symlinkSync(join(root, 'a'), join(root, 'b'));
    await assert.rejects(digestLocalPath(root), isDigestError('SYMLINK', join(root, 'b')));
  });

  it('refuses a FIFO without blocking on it', async () => {
    const root = tree('fifo', { 'w.bin': 'x' });
    execFileSync('mkfifo', [join(root, 'pipe')]);
    await assert.rejects(digestLocalPath(root), isDigestError('SPECIAL_FILE', 'FIFO'));
  });

  it('refuses a socket', async () => {
    const root = tree('socket', { 'w.bin': 'x' });
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(root, 'sock'), resolve));
    try {
      await assert.rejects(digestLocalPath(root), isDigestError('SPECIAL_FILE', 'socket'));
    } finally {
      server.close();
    }
  });

  it('refuses a directory with no files to measure', async () => {
    const empty = join(scratch, 'empty');
    mkdirSync(join(empty, 'sub'), { recursive: true });
    await assert.rejects(digestLocalPath(empty), isDigestError('EMPTY_MODEL', empty));
    const onlyGit = tree('only-git', { '.gitignore': 'x', '.git/HEAD': 'ref' });
    await assert.rejects(digestLocalPath(onlyGit), isDigestError('EMPTY_MODEL'));
  });

  it('stops reading when aborted', async () => {
    for (const concurrency of [1, 2]) {
      const controller = new AbortController();
      let bytesDone = 0;
      const run = digestLocalPath(largeTree(), {
        concurrency,
        onProgress: (p) => {
          bytesDone = p.bytesDone;
          if (p.bytesDone > 0) controller.abort();
        },
        signal: controller.signal,
      });
      await assert.rejects(run, isDigestError('ABORTED'));
      assert.ok(bytesDone < LARGE_TOTAL / 2, `stopped early (concurrency ${concurrency}, ${bytesDone} bytes)`);
    }
    await assert.rejects(digestLocalPath(largeTree(), { signal: AbortSignal.abort() }), isDigestError('ABORTED'));
  });

  it('fails, without hanging, when the progress callback throws', async () => {
    for (const concurrency of [1, 2]) {
      const onProgress = (p: DigestProgress): void => {
        if (p.bytesDone > 0) throw new Error('progress bar broke');
      };
      await assert.rejects(digestLocalPath(largeTree(), { concurrency, onProgress }), /progress bar broke/);
    }
  });

  it('refuses a concurrency that is not a positive integer', async () => {
    const root = tree('bad-option', { a: 'x' });
    await assert.rejects(digestLocalPath(root, { concurrency: 0 }), isDigestError('BAD_OPTION'));
  });
});

describe('when a stream is digested', () => {
  it('gives the sha256 of all its bytes', async () => {
    const parts = [randomBytes(10), randomBytes(70_000), Buffer.alloc(0)];
    assert.equal(await sha256Stream(Readable.from(parts)), sha256(Buffer.concat(parts)));
  });

  it('refuses a stream of text, whose bytes are not defined', async () => {
    await assert.rejects(sha256Stream(Readable.from(['text'])), isDigestError('BAD_STREAM'));
  });

  it('passes on the stream error', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('connection reset')); } });
    await assert.rejects(sha256Stream(failing), /connection reset/);
  });
});
