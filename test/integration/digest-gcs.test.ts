// digestStorage over fake-gcs-server must give what digestLocalPath gives for the same tree
// on disk, so a model measured in GCS verifies after download (and with model_signing).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

import { DigestError, digestLocalPath, digestStorage } from '../../src/digest/index.ts';
import type { DigestProgress } from '../../src/digest/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import type { Storage } from '../../src/storage/index.ts';
import { testEnv, uniqueName } from '../harness/index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'digest-gcs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const MODEL: Record<string, Buffer> = {
  'saved_model.pb': randomBytes(4096),
  'fingerprint.pb': randomBytes(20),
  'variables/variables.index': randomBytes(512),
  'variables/variables.data-00000-of-00001': randomBytes(5 * (1 << 20) + 3),
  'assets/vocab.txt': Buffer.from('a\nb\nc\n'),
  'a-b': Buffer.from('dash'),
  'a/b': Buffer.from('slash'),
  '.gitignore': Buffer.from('ignored by model-signing'),
};

function storage(): Storage {
  return createStorage({ gcs: { apiEndpoint: testEnv().gcsEndpoint } });
}

function localCopy(name: string): string {
  const root = join(scratch, name);
  for (const [path, data] of Object.entries(MODEL)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  return root;
}

/** Uploads MODEL under a fresh prefix, plus the zero-byte "folder" objects the console creates. */
async function uploadModel(hint: string): Promise<string> {
  const env = testEnv();
  const prefix = `${uniqueName(hint)}/saved_model/`;
  const bucket = env.storageClient().bucket(env.bucket);
  await Promise.all(Object.entries(MODEL).map(([path, data]) => bucket.file(`${prefix}${path}`).save(data, { resumable: false })));
  for (const placeholder of ['', 'variables/', 'assets/']) await bucket.file(`${prefix}${placeholder}`).save(Buffer.alloc(0), { resumable: false });
  return `gs://${env.bucket}/${prefix}`;
}

describe('when a model in GCS is digested', () => {
  it('gives the same root digest for a prefix as for the same tree on disk, skipping folder placeholders', async () => {
    const uri = await uploadModel('prefix');
    const [remote, local] = await Promise.all([digestStorage(storage(), uri, { concurrency: 3 }), digestLocalPath(localCopy('prefix'))]);
    assert.deepEqual(remote, local);
    assert.equal(remote.fileCount, 7);
  });

  it('gives the sha256 of a single object, streamed in chunks, with progress', async () => {
    const uri = await uploadModel('single');
    const seen: DigestProgress[] = [];
    const weights = 'variables/variables.data-00000-of-00001';
    const remote = await digestStorage(storage(), `${uri}${weights}`, { onProgress: (p) => seen.push(p) });
    const local = await digestLocalPath(join(localCopy('single'), weights));
    assert.deepEqual(remote, local);
    assert.ok(seen.length > 2);
    assert.deepEqual(seen.at(-1), { bytesDone: local.totalBytes, bytesTotal: local.totalBytes, filesDone: 1, filesTotal: 1 });
  });

  it('says NOT_FOUND for a directory model named without its trailing slash', async () => {
    const uri = await uploadModel('no-slash');
    await assert.rejects(digestStorage(storage(), uri.slice(0, -1)), (e) => e instanceof DigestError && e.code === 'NOT_FOUND');
  });

  it('refuses an empty prefix', async () => {
    const env = testEnv();
    const uri = `gs://${env.bucket}/${uniqueName('empty')}/model/`;
    await assert.rejects(digestStorage(storage(), uri), (e) => e instanceof DigestError && e.code === 'EMPTY_MODEL');
  });
});
