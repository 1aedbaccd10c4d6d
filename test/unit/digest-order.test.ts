import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { compareModelPaths, DigestError, isIgnored, rootDigest } from '../../src/digest/index.ts';
import { checkNoFileDirConflicts, checkRelativePath } from '../../src/digest/model-path.ts';

const sorted = (paths: string[]): string[] => [...paths].sort(compareModelPaths);

describe('when files of a directory model are put in canonical order', () => {
  it('compares segment by segment, so a directory sorts before a sibling with a longer name', () => {
    // A plain string sort puts "a-b" first because "-" (0x2d) < "/" (0x2f).
    assert.deepEqual(sorted(['a-b', 'a/b']), ['a/b', 'a-b']);
    assert.deepEqual(sorted(['variables.index', 'variables/x']), ['variables/x', 'variables.index']);
    assert.deepEqual(['a-b', 'a/b'].sort(), ['a-b', 'a/b'], 'the trap a string sort falls into');
  });

  it('orders a SavedModel the way model_signing does', () => {
    const tree = [
      'variables/variables.index',
      'saved_model.pb',
      'variables/variables.data-00000-of-00001',
      'assets/vocab.txt',
      'fingerprint.pb',
      'variables.txt',
    ];
    assert.deepEqual(sorted(tree), [
      'assets/vocab.txt',
      'fingerprint.pb',
      'saved_model.pb',
      'variables/variables.data-00000-of-00001',
      'variables/variables.index',
      'variables.txt',
    ]);
  });

  it('orders by code point: upper case before lower case, and astral characters after U+FFFF', () => {
    assert.deepEqual(sorted(['b', 'B', 'a', 'A']), ['A', 'B', 'a', 'b']);
    // UTF-16 comparison would put U+1F600 (surrogates D83D...) before U+FF5E.
    assert.deepEqual(sorted(['\u{1F600}', '\uFF5E']), ['\uFF5E', '\u{1F600}']);
    assert.deepEqual(sorted(['é', 'z', 'e']), ['e', 'z', 'é']);
  });

  it('puts a shorter path first when it is a prefix of a longer one', () => {
    assert.ok(compareModelPaths('a', 'a/b') < 0);
    assert.equal(compareModelPaths('x/y', 'x/y'), 0);
  });
});

describe('when a root digest is chained from file digests', () => {
  it('hashes the raw 32-byte digests in the given order', () => {
    const a = createHash('sha256').update('a').digest();
    const b = createHash('sha256').update('b').digest();
    const expected = createHash('sha256').update(Buffer.concat([a, b])).digest('hex');
    const files = [
      { path: 'a', sha256: a.toString('hex'), size: 1 },
      { path: 'b', sha256: b.toString('hex'), size: 1 },
    ];
    assert.equal(rootDigest(files), expected);
    assert.notEqual(rootDigest([...files].reverse()), expected, 'order matters');
  });
});

describe('when deciding which files belong to a directory model', () => {
  it('ignores .git, .github, .gitignore and .gitattributes at the top level, with everything below', () => {
    for (const p of ['.git', '.git/config', '.github/workflows/ci.yml', '.gitignore', '.gitattributes']) {
      assert.equal(isIgnored(p), true, p);
    }
  });

  it('keeps look-alikes and the same names deeper in the tree', () => {
    for (const p of ['.github2/x', '.gitmodules', 'sub/.git/config', 'sub/.gitignore', '.GIT/config', 'git']) {
      assert.equal(isIgnored(p), false, p);
    }
  });

  it('refuses object names no directory can hold', () => {
    for (const p of ['a//b', './a', 'a/../b', 'a/.', '']) {
      assert.throws(() => checkRelativePath(p, 'gs://b/m/'), (e: unknown) => e instanceof DigestError && e.code === 'UNREPRESENTABLE_PATH', p);
    }
    checkRelativePath('a/.b/..c', 'gs://b/m/');
  });

  it('refuses a name that is both a file and a directory', () => {
    assert.throws(
      () => checkNoFileDirConflicts(['x', 'a/b', 'x/y/z'], 'gs://b/m/'),
      (e: unknown) => e instanceof DigestError && e.code === 'PATH_CONFLICT' && e.message.includes('"x"'),
    );
    checkNoFileDirConflicts(['x', 'x-y/z', 'xy'], 'gs://b/m/');
  });
});
