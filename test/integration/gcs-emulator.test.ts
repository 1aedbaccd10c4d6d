import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { testEnv, uniqueName } from '../harness/index.ts';

function statusCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

describe('fake-gcs-server through @google-cloud/storage', () => {
  it('stores an object create-only and refuses a second create with 412, keeping the first', async () => {
    const env = testEnv();
    const file = env.storageClient().bucket(env.bucket).file(`${uniqueName('create-only')}/model.pth`);
    const first = randomBytes(4096);
    await file.save(first, { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    await assert.rejects(
      file.save(Buffer.from('overwrite attempt'), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
      (err) => statusCode(err) === 412,
    );
    const [stored] = await file.download();
    assert.deepEqual(stored, first);
  });

  it('refuses a second create-only resumable upload too', async () => {
    const env = testEnv();
    const file = env.storageClient().bucket(env.bucket).file(`${uniqueName('resumable')}/model.pth`);
    await file.save(Buffer.from('first'), { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } });
    await assert.rejects(
      file.save(Buffer.from('second'), { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }),
      (err) => statusCode(err) === 412,
    );
    assert.equal((await file.download())[0].toString(), 'first');
  });

  it('streams back the same bytes that were written', async () => {
    const env = testEnv();
    const file = env.storageClient().bucket(env.bucket).file(`${uniqueName('stream')}/weights.bin`);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await file.save(data, { resumable: false });
    const chunks: Buffer[] = [];
    for await (const chunk of file.createReadStream()) chunks.push(chunk as Buffer);
    assert.ok(chunks.length > 1, 'the read was streamed in several chunks');
    assert.deepEqual(Buffer.concat(chunks), data);
  });
});
