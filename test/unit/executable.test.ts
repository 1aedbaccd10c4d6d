// `slsa-ml` is operator/bin.ts run directly (package.json bin, the image's entrypoint, a checkout
// on PATH): npm marks it executable on install, so the repository must hold it that way too, or
// every `npm ci` leaves a modified file behind and a plain clone cannot run it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const bin = join(import.meta.dirname, '..', '..', 'operator', 'bin.ts');

describe('the slsa-ml executable', () => {
  it('is executable in the checkout, with a node shebang', () => {
    assert.equal(statSync(bin).mode & 0o111, 0o111, 'operator/bin.ts is mode 755');
    assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('runs by its path', async () => {
    // The node running this test first on PATH, as hack/run.sh arranges.
    const { stdout } = await promisify(execFile)(bin, ['version'], { env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }, timeout: 30_000 });
    assert.match(stdout, /^slsa-ml \d+\.\d+\.\d+/);
  });
});
