// Our directory digest must equal the root digest OpenSSF model_signing (PyPI model-signing
// 1.1.1) puts in its in-toto subject for the same tree: run the real library and compare.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';

import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { digestLocalPath } from '../../src/digest/index.ts';

const run = promisify(execFile);

// model-signing 1.1.1 imports pyOpenSSL without declaring it; hack/requirements-verifiers.txt pins it.
const MODEL_SIGNING_ROOT = `
import json, sys
import model_signing
from google.protobuf import json_format
from model_signing._signing import signing
results = []
for path in sys.argv[1:]:
    manifest = model_signing.hashing.Config().hash(path)
    statement = json_format.MessageToDict(signing.Payload(manifest).statement.pb)
    results.append({
        "version": model_signing.__version__,
        "root": statement["subject"][0]["digest"]["sha256"],
        "files": [r["name"] for r in statement["predicate"]["resources"]],
    })
print(json.dumps(results))
`;

interface ModelSigningResult {
  version: string;
  root: string;
  files: string[];
}

/** One interpreter start for several models: Python start-up dominates this test's time. */
async function modelSigning(...paths: string[]): Promise<ModelSigningResult[]> {
  const python = requireTool(toolPaths().verifierPython, 'verifiers');
  const { stdout } = await run(python, ['-c', MODEL_SIGNING_ROOT, ...paths], { timeout: 60_000 });
  return JSON.parse(stdout) as ModelSigningResult[];
}

const scratch = mkdtempSync(join(tmpdir(), 'digest-model-signing-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string | Buffer>): string {
  const root = join(scratch, name);
  mkdirSync(root, { recursive: true });
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  return root;
}

describe('when a directory model is digested', () => {
  it('gives the root digest model_signing computes for a SavedModel with tricky names', async () => {
    const root = tree('saved_model', {
      'saved_model.pb': randomBytes(2048),
      'fingerprint.pb': randomBytes(16),
      'variables/variables.index': randomBytes(300),
      'variables/variables.data-00000-of-00001': randomBytes(3 << 20),
      'variables.index': 'sorts after the variables/ directory',
      'assets/vocab.txt': 'the\nquick\nbrown\n',
      'a-b': 'dash',
      'a/b': 'slash',
      'a/b-c/d': 'nested',
      'a.b/c': 'dot dir',
      'A/upper': 'case',
      'é/accent': 'non-ascii',
      'z😀/emoji': 'astral',
      'z\uFF5E/fullwidth': 'bmp',
      'with space/file name.txt': 'space',
      '.hidden/file': 'dot dir',
      '.gitignore': '*.tmp',
      '.gitattributes': '*.bin filter=lfs',
      '.git/HEAD': 'ref: refs/heads/main',
      '.github/workflows/ci.yml': 'on: push',
      '.github2/kept': 'not ignored',
      'sub/.gitignore': 'not top level, kept',
      'empty.bin': '',
    });
    mkdirSync(join(root, 'empty-dir', 'deeper'), { recursive: true });
    const [ours, [theirs]] = await Promise.all([digestLocalPath(root), modelSigning(root)]);
    assert.equal(theirs?.version, '1.1.1');
    assert.deepEqual(ours.files?.map((f) => f.path), theirs.files, 'same files in the same order');
    assert.equal(ours.sha256, theirs?.root);
  });

  it('agrees with model_signing on randomly generated trees', async () => {
    const alphabet = ['a', 'b', 'A', '-', '.', '_', '~', ' ', '0', 'é', 'ß', '\u00ff', '\u0100', '\uFF5E', '😀'];
    const pick = (): string => alphabet[randomBytes(1)[0]! % alphabet.length]!;
    const roots: string[] = [];
    for (let t = 0; t < 4; t++) {
      const files: Record<string, Buffer> = {};
      while (Object.keys(files).length < 40) {
        const depth = 1 + (randomBytes(1)[0]! % 3);
        const segments = Array.from({ length: depth }, () => Array.from({ length: 1 + (randomBytes(1)[0]! % 3) }, pick).join(''));
        const path = segments.join('/');
        // Skip names a directory cannot hold, or that clash with an existing file or directory.
        if (segments.some((s) => s === '.' || s === '..') || Object.keys(files).some((p) => p.startsWith(`${path}/`) || path.startsWith(`${p}/`))) continue;
        files[path] = randomBytes(randomBytes(1)[0]!);
      }
      roots.push(tree(`random-${t}`, files));
    }
    const theirs = await modelSigning(...roots);
    for (const [i, root] of roots.entries()) {
      const ours = await digestLocalPath(root, { concurrency: 2 });
      assert.deepEqual(ours.files?.map((f) => f.path), theirs[i]?.files);
      assert.equal(ours.sha256, theirs[i]?.root);
    }
  });
});

describe('when a single-file model is digested', () => {
  it('gives the plain sha256 (as SLSA and cosign expect), where model_signing chains that one digest', async () => {
    const data = randomBytes(1000);
    const root = tree('single', { 'model.pth': data });
    const file = join(root, 'model.pth');
    const [ours, [theirs]] = await Promise.all([digestLocalPath(file), modelSigning(file)]);
    const plain = createHash('sha256').update(data).digest();
    assert.equal(ours.sha256, plain.toString('hex'));
    assert.equal(theirs?.root, createHash('sha256').update(plain).digest('hex'));
  });
});
