// Writing one object next to a model: the store's own checksum of what it created is proof enough
// that the name holds our bytes; without one, or when it differs, the name is read back and judged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrRead, type Judge } from '../../operator/reconcile/slot-io.ts';
import { md5Base64, StorageError, type Created, type Storage } from '../../src/storage/index.ts';

function store(created: (data: Buffer) => Created | Promise<never>, stored: string): { storage: Storage; reads: string[] } {
  const reads: string[] = [];
  const storage = {
    createOnly: (_uri: string, data: Buffer) => Promise.resolve().then(() => created(data)),
    read: (uri: string) => {
      reads.push(uri);
      return Promise.resolve(Buffer.from(stored));
    },
  } as unknown as Storage;
  return { storage, reads };
}

const foreign: Judge = () => Promise.resolve({ state: 'foreign', why: 'not ours' });
const uri = 'gs://bucket/m/model.pth.sigstore.json';

describe('creating an object next to a model', () => {
  it('when the store reports the MD5 of exactly our bytes, takes the name as ours without reading it back', async () => {
    const t = store((data) => ({ md5: md5Base64(data), size: data.length }), 'unused');
    assert.deepEqual(await createOrRead({ storage: t.storage, maxBytes: 1024 }, uri, '{"ours":1}', 'application/json', foreign), { state: 'ours', content: '{"ours":1}' });
    assert.deepEqual(t.reads, []);
  });

  it('when the store reports another checksum, or none, reads back what the name holds', async () => {
    const other = store(() => ({ md5: md5Base64(Buffer.from('something else')) }), '{"ours":1}');
    assert.deepEqual(await createOrRead({ storage: other.storage, maxBytes: 1024 }, uri, '{"ours":1}', 'application/json', foreign), { state: 'ours', content: '{"ours":1}' });
    assert.deepEqual(other.reads, [uri]);
    const none = store(() => ({}), 'planted');
    assert.deepEqual(await createOrRead({ storage: none.storage, maxBytes: 1024 }, uri, '{"ours":1}', 'application/json', foreign), { state: 'foreign', why: 'not ours' });
  });

  it('when the name was taken (412), judges what it holds', async () => {
    const taken = store(() => Promise.reject(new StorageError('ALREADY_EXISTS', 'exists')), 'planted');
    assert.deepEqual(await createOrRead({ storage: taken.storage, maxBytes: 1024 }, uri, '{"ours":1}', 'application/json', foreign), { state: 'foreign', why: 'not ours' });
    assert.deepEqual(taken.reads, [uri]);
  });
});
