// One attempt's storage view: looking a single-file model up also answers what its sibling names
// hold, once, and never for a name the attempt has written since.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrefetchingStorage } from '../../operator/reconcile/prefetch.ts';
import type { Storage, StoredObject } from '../../src/storage/index.ts';

function recording(existing: readonly string[]): { storage: Storage; calls: string[][] } {
  const calls: string[][] = [];
  const found = (uri: string): StoredObject | undefined => (existing.includes(uri) ? { uri, size: 1, generation: '1' } : undefined);
  const storage = {
    stat: (uri: string) => { calls.push(['stat', uri]); return Promise.resolve(found(uri)); },
    statAll: (uris: readonly string[]) => { calls.push(['statAll', ...uris]); return Promise.resolve(uris.map(found)); },
    createOnly: () => Promise.resolve({}),
  } as unknown as Storage;
  return { storage, calls };
}

const model = 'gs://b/m/model.pth';

describe('an attempt\'s view of storage', () => {
  it('looks a model up together with its three sibling names, and answers their inspection from that', async () => {
    const t = recording([model, `${model}.sig`]);
    const view = new PrefetchingStorage(t.storage, { modelSignature: true });
    assert.equal((await view.stat(model))?.uri, model);
    const siblings = [`${model}.sigstore.json`, `${model}.intoto.jsonl`, `${model}.sig`];
    assert.deepEqual((await view.statAll(siblings)).map((o) => o?.uri), [undefined, undefined, `${model}.sig`]);
    assert.deepEqual(t.calls, [['statAll', model, ...siblings]]);
    await view.statAll(siblings);
    assert.equal(t.calls.length, 2, 'an answer is used once');
  });

  it('asks again for a name it has written, and passes directory models and pinned generations through', async () => {
    const t = recording([model]);
    const view = new PrefetchingStorage(t.storage, { modelSignature: false });
    await view.stat(model);
    await view.createOnly(`${model}.sigstore.json`, Buffer.from('x'), 'application/json');
    await view.statAll([`${model}.sigstore.json`, `${model}.intoto.jsonl`]);
    assert.deepEqual(t.calls.at(-1), ['statAll', `${model}.sigstore.json`, `${model}.intoto.jsonl`]);
    await view.stat('gs://b/m/saved_model/');
    await view.stat(`${model}#7`);
    assert.deepEqual(t.calls.slice(-2), [['stat', 'gs://b/m/saved_model/'], ['stat', `${model}#7`]]);
  });
});
