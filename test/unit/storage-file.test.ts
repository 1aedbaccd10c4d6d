import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { createStorage, StorageError } from '../../src/storage/index.ts';
import type { Storage } from '../../src/storage/index.ts';

const storageCode = (code: string) => (e: unknown) => e instanceof StorageError && e.code === code;
const uriOf = (path: string): string => pathToFileURL(path).href;

let scratch: string;
let storage: Storage;
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'storage-file-'));
  storage = createStorage({});
});
after(() => rmSync(scratch, { recursive: true, force: true }));

function dir(name: string): string {
  const d = join(scratch, name);
  mkdirSync(d, { recursive: true });
  return d;
}

async function collect(prefixUri: string, s: Storage = storage): Promise<Array<{ uri: string; size: number }>> {
  const out = [];
  for await (const o of s.list(prefixUri)) out.push({ uri: o.uri, size: o.size });
  return out.sort((a, b) => (a.uri < b.uri ? -1 : 1));
}

describe('when provenance is written to file:// storage', () => {
  it('creates the object, creating missing directories, and reads it back', async () => {
    const uri = uriOf(join(scratch, 'new-dirs', 'm', 'model.pth.intoto.jsonl'));
    await storage.createOnly(uri, Buffer.from('{"payload":1}\n'), 'application/jsonl');
    assert.equal((await storage.read(uri, 1024)).toString(), '{"payload":1}\n');
    const { created, ...found } = (await storage.stat(uri)) ?? {};
    assert.deepEqual(found, { uri, size: 14 });
    assert.ok(created instanceof Date);
  });

  it('refuses a second create with ALREADY_EXISTS and keeps the first content', async () => {
    const d = dir('twice');
    const uri = uriOf(join(d, 'model.sigstore.json'));
    await storage.createOnly(uri, Buffer.from('first'), 'application/json');
    await assert.rejects(storage.createOnly(uri, Buffer.from('second, longer'), 'application/json'), (e) => storageCode('ALREADY_EXISTS')(e) && !(e as StorageError).retryable);
    assert.equal(readFileSync(join(d, 'model.sigstore.json'), 'utf8'), 'first');
    assert.deepEqual(readdirSync(d), ['model.sigstore.json'], 'no temporary file is left behind');
  });

  it('lets exactly one of many racing writers win', async () => {
    const d = dir('race');
    const uri = uriOf(join(d, 'p.json'));
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => storage.createOnly(uri, Buffer.from(`writer ${i}`), 'application/json')));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(winners.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(storageCode('ALREADY_EXISTS')(r.reason));
    assert.equal(readFileSync(join(d, 'p.json'), 'utf8'), `writer ${winners[0]}`);
  });

  it('never leaves a partial object under the final name when the writer is killed mid-write', async () => {
    const size = 192 << 20;
    let killedMidWrite = false;
    for (const delayMs of [0, 15, 40, 80]) {
      const d = dir(`crash-${delayMs}`);
      const target = join(d, 'big.intoto.jsonl');
      await killWriterAfter(target, size, delayMs);
      if (existsSync(target)) assert.equal(statSync(target).size, size, `complete or absent (kill after ${delayMs} ms)`);
      // A partial temporary file proves the kill really landed during the write.
      killedMidWrite ||= readdirSync(d).some((n) => n.endsWith('.tmp') && statSync(join(d, n)).size < size);
    }
    assert.ok(killedMidWrite, 'at least one writer was killed in the middle of writing');
  });

  it('refuses to read more than the limit without reading the object', async () => {
    const d = dir('limit');
    writeFileSync(join(d, 'huge.json'), Buffer.alloc(4096));
    await assert.rejects(storage.read(uriOf(join(d, 'huge.json')), 4095), storageCode('TOO_LARGE'));
    assert.equal((await storage.read(uriOf(join(d, 'huge.json')), 4096)).length, 4096);
  });

  it('says NOT_FOUND for a missing object, and stat says undefined', async () => {
    const uri = uriOf(join(scratch, 'nope', 'x.json'));
    assert.equal(await storage.stat(uri), undefined);
    await assert.rejects(storage.read(uri, 10), storageCode('NOT_FOUND'));
    await assert.rejects(storage.openRead(uri), storageCode('NOT_FOUND'));
  });

  it('streams an object', async () => {
    const d = dir('stream');
    const data = randomBytes(3 << 20);
    writeFileSync(join(d, 'w.bin'), data);
    const chunks: Buffer[] = [];
    for await (const c of await storage.openRead(uriOf(join(d, 'w.bin')))) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), data);
  });

  it('refuses symlinks and FIFOs as objects, without blocking', async () => {
    const d = dir('special');
    writeFileSync(join(d, 'real'), 'x');
    symlinkSync(join(d, 'real'), join(d, 'link'));
    execFileSync('mkfifo', [join(d, 'pipe')]);
    await assert.rejects(storage.read(uriOf(join(d, 'link')), 10), storageCode('UNSUPPORTED_OBJECT'));
    await assert.rejects(storage.openRead(uriOf(join(d, 'pipe'))), storageCode('UNSUPPORTED_OBJECT'));
    await assert.rejects(collect(uriOf(`${d}/`)), storageCode('UNSUPPORTED_OBJECT'));
  });

  it('refuses paths outside the configured root', async () => {
    const root = dir('root');
    const confined = createStorage({ fileRoot: root });
    writeFileSync(join(scratch, 'outside.json'), '{}');
    await assert.rejects(confined.read(uriOf(join(scratch, 'outside.json')), 10), storageCode('INVALID_URI'));
    await assert.rejects(confined.createOnly(uriOf(`${root}-sibling/x`), Buffer.from('x'), 'text/plain'), storageCode('INVALID_URI'));
    await confined.createOnly(uriOf(join(root, 'in', 'x.json')), Buffer.from('{}'), 'application/json');
  });

  it('refuses to follow a symlinked directory out of its root, for reads, writes and listings', async () => {
    const root = dir('linked-root');
    const outside = dir('linked-outside');
    writeFileSync(join(outside, 'secret.pth'), 'outside bytes');
    symlinkSync(outside, join(root, 'escape'));
    const confined = createStorage({ fileRoot: root });
    await assert.rejects(confined.read(uriOf(join(root, 'escape', 'secret.pth')), 100), (e) => storageCode('INVALID_URI')(e) && /symbolic link/.test((e as Error).message));
    assert.equal(await confined.stat(uriOf(join(root, 'escape', 'secret.pth'))).catch((e: unknown) => e instanceof StorageError && e.code), 'INVALID_URI');
    await assert.rejects(confined.createOnly(uriOf(join(root, 'escape', 'new', 'x.json')), Buffer.from('{}'), 'application/json'), storageCode('INVALID_URI'));
    await assert.rejects(collect(uriOf(`${join(root, 'escape')}/`), confined), storageCode('INVALID_URI'));
    assert.deepEqual(readdirSync(outside), ['secret.pth']);
    // A root that is itself reached through a link is fine: only leaving it is refused.
    const viaLink = join(scratch, 'root-link');
    symlinkSync(root, viaLink);
    const linkedRoot = createStorage({ fileRoot: viaLink });
    await linkedRoot.createOnly(uriOf(join(viaLink, 'ok', 'x.json')), Buffer.from('{}'), 'application/json');
    assert.equal((await linkedRoot.stat(uriOf(join(viaLink, 'ok', 'x.json'))))?.size, 2);
  });

  it('reports when an object was created, which a client cannot set back', async () => {
    const before = Date.now() - 1000;
    const path = join(dir('times'), 'm.pth');
    writeFileSync(path, 'x');
    const found = await storage.stat(uriOf(path));
    assert.ok(found?.created && found.created.getTime() >= before, `created ${String(found?.created)}`);
  });

  it('refuses URIs of other schemes and directory URIs for objects', async () => {
    await assert.rejects(storage.read('s3://bucket/key', 10), storageCode('INVALID_URI'));
    await assert.rejects(storage.createOnly(uriOf(`${scratch}/`), Buffer.from('x'), 'text/plain'), storageCode('INVALID_URI'));
  });
});

describe('when file:// storage lists a prefix', () => {
  it('lists every file below a directory prefix, recursively', async () => {
    const d = dir('list');
    mkdirSync(join(d, 'm', 'variables'), { recursive: true });
    writeFileSync(join(d, 'm', 'saved_model.pb'), 'pb');
    writeFileSync(join(d, 'm', 'variables', 'variables.index'), 'index');
    writeFileSync(join(d, 'm.intoto.jsonl'), '{}');
    mkdirSync(join(d, 'm', 'empty'));
    assert.deepEqual(await collect(uriOf(`${d}/m/`)), [
      { uri: uriOf(join(d, 'm', 'saved_model.pb')), size: 2 },
      { uri: uriOf(join(d, 'm', 'variables', 'variables.index')), size: 5 },
    ]);
  });

  it('matches a prefix that is not a directory the way GCS does: by name', async () => {
    const d = join(scratch, 'list');
    const uris = (await collect(uriOf(join(d, 'm')))).map((o) => o.uri);
    assert.deepEqual(uris, [uriOf(join(d, 'm', 'saved_model.pb')), uriOf(join(d, 'm', 'variables', 'variables.index')), uriOf(join(d, 'm.intoto.jsonl'))].sort());
  });

  it('lists nothing under a prefix that does not exist', async () => {
    assert.deepEqual(await collect(uriOf(join(scratch, 'absent') + '/')), []);
  });
});

/** Runs createOnly in a child process and SIGKILLs it `delayMs` after it starts writing. */
async function killWriterAfter(target: string, size: number, delayMs: number): Promise<void> {
  const storageModule = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'storage', 'index.ts')).href;
  const script = `
    import { createStorage } from ${JSON.stringify(storageModule)};
    const data = Buffer.alloc(${size}, 7);
    process.stdout.write('go\\n');
    await createStorage({}).createOnly(${JSON.stringify(uriOf(target))}, data, 'application/octet-stream');
    process.stdout.write('done\\n');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => {
    child.stdout.once('data', () => setTimeout(() => { child.kill('SIGKILL'); resolve(); }, delayMs));
  });
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('when a directory under the storage root is swapped for a symlink while writes and reads run', () => {
  it('never writes or reads outside the root: 0 escapes in 3,000 writes against a swapping loop', { timeout: 120_000 }, async () => {
    const base = mkdtempSync(join(tmpdir(), 'slsa-ml-swap-'));
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    mkdirSync(join(root, 'm'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'not a model');
    const storage = createStorage({ fileRoot: root });
    // Another process flips root/m between the real directory and a link out of the root, as fast as it can.
    const swapper = spawn('/bin/sh', ['-c', `cd "${root}" && while :; do mv m m.real 2>/dev/null; ln -s "${outside}" m 2>/dev/null; rm -f m; mv m.real m 2>/dev/null; done`], { stdio: 'ignore' });
    let written = 0;
    let refused = 0;
    let readOutside = 0;
    try {
      for (let i = 0; i < 3000; i++) {
        try {
          await storage.createOnly(`${pathToFileURL(root).href}/m/obj-${i}`, Buffer.from(`object ${i}`), 'application/octet-stream');
          written++;
        } catch (err) {
          assert.ok(err instanceof StorageError, String(err));
          refused++;
        }
        if (i % 10 === 0) {
          const read = await storage.read(`${pathToFileURL(root).href}/m/secret`, 1024).catch(() => undefined);
          if (read !== undefined) readOutside++;
        }
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    assert.deepEqual(readdirSync(outside), ['secret'], `written outside the root: ${readdirSync(outside).length - 1} of ${written} writes`);
    assert.equal(readOutside, 0, 'a read through the link');
    assert.ok(written > 0 && written + refused === 3000, `${written} written, ${refused} refused`);
    rmSync(base, { recursive: true, force: true });
  });
});
