// The progress bar verify draws on stderr while it hashes a large model: only on a terminal,
// only for large models, throttled, and erased when done so the verdict stays clean.
import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';

import { progressBar, renderLine } from '../../src/cli/progress.ts';
import { digestLocalPath } from '../../src/digest/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { cli, signRun, storeSiblings, writeKeyPair } from '../support/cli.ts';

const MiB = 1024 * 1024;

function terminal(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns: 100, write: (s: string) => writes.push(s) } };
}

describe('when stderr is not a terminal', () => {
  it('draws nothing, whatever the size', () => {
    const { writes, out } = terminal(false);
    const bar = progressBar(out, 'model.pth', { minBytes: 0 });
    assert.equal(bar.onProgress, undefined);
    bar.finish();
    assert.deepEqual(writes, []);
  });
});

describe('when stderr is a terminal', () => {
  it('stays quiet for a model below the size threshold', () => {
    const { writes, out } = terminal(true);
    const bar = progressBar(out, 'small', { minBytes: 64 * MiB });
    bar.onProgress?.({ bytesDone: 0, bytesTotal: MiB, filesDone: 0, filesTotal: 1 });
    bar.onProgress?.({ bytesDone: MiB, bytesTotal: MiB, filesDone: 1, filesTotal: 1 });
    bar.finish();
    assert.deepEqual(writes, []);
  });

  it('redraws at most every interval, always draws 100 %, and erases the line at the end', () => {
    const { writes, out } = terminal(true);
    let now = 0;
    const bar = progressBar(out, 'big', { minBytes: 10, intervalMs: 100, clock: () => now });
    const total = 1000;
    bar.onProgress?.({ bytesDone: 0, bytesTotal: total, filesDone: 0, filesTotal: 3 });
    now = 50;
    bar.onProgress?.({ bytesDone: 400, bytesTotal: total, filesDone: 1, filesTotal: 3 });
    now = 150;
    bar.onProgress?.({ bytesDone: 500, bytesTotal: total, filesDone: 1, filesTotal: 3 });
    now = 160;
    bar.onProgress?.({ bytesDone: total, bytesTotal: total, filesDone: 3, filesTotal: 3 });
    bar.finish();
    bar.finish();
    assert.equal(writes.length, 4, writes.join('|'));
    assert.equal(writes[1], `\rhashing big [${'#'.repeat(15)}${'-'.repeat(15)}]  50%  500 B/1000 B  1/3 files\x1b[K`);
    assert.match(writes[2] ?? '', /100%/);
    assert.equal(writes[3], '\r\x1b[K');
  });

  it('never writes a line wider than the terminal', () => {
    const line = renderLine('a-very-long-model-name-'.repeat(5), { bytesDone: 1, bytesTotal: 2, filesDone: 0, filesTotal: 1 }, 60);
    assert.ok(line.length < 60);
  });

  it('verify shows the bar on stderr while hashing a large model, and the verdict on stdout is unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slsa-ml-progress-'));
    try {
      const key = await writeKeyPair(dir, 'k');
      const path = join(dir, 'large.bin');
      await writeFile(path, 'x');
      await truncate(path, 70 * MiB); // sparse: cheap to create, read in full by the digest
      const uri = pathToFileURL(path).href;
      await storeSiblings(createStorage(), uri, await signRun({ modelUri: uri }, await digestLocalPath(path), { privatePem: key.privatePem }));
      const run = await cli(['verify', path, '--key', key.publicPath], { tty: { columns: 120 } });
      assert.equal(run.code, 0, run.stdout);
      assert.match(run.stderr, /\rhashing large\.bin \[[#-]{30}\] +\d+%.*70\.0 MiB/);
      assert.ok(run.stderr.endsWith('\r\x1b[K'), 'the bar is erased');
      assert.doesNotMatch(run.stdout, /hashing/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
