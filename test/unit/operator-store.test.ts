// The provenance slots next to a model, on real file:// storage with real signatures: what an
// earlier attempt of ours left is adopted, anything else is refused and left byte-for-byte.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { hasOurBundle, inspectSlots, writeSlots, type StoreContext } from '../../operator/reconcile/store.ts';
import { ReconcileFailure } from '../../operator/reconcile/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { createSignatureVerifier } from '../../src/verify/index.ts';
import { signRun } from '../support/cli.ts';
import { sha256 } from '../support/training-run.ts';

function keyPair(): { privatePem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const operatorKey = keyPair();
const tenantKey = keyPair();

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'store-'));
  const model = Buffer.from(`weights ${randomUUID()}`);
  writeFileSync(join(dir, 'model.pth'), model);
  const modelUri = `${pathToFileURL(dir).href}/model.pth`;
  const ctx: StoreContext = { storage: createStorage({ fileRoot: dir }), ownVerifier: await createSignatureVerifier({ kind: 'key', publicKeyPem: operatorKey.publicKeyPem }), maxBytes: 1 << 20 };
  const uid = randomUUID();
  const expect = { invocationId: uid, sha256: sha256(model) };
  const sign = (key = operatorKey, runUid = uid) =>
    signRun({ modelUri, uid: runUid }, { kind: 'file', sha256: sha256(model), fileCount: 1, totalBytes: model.length }, { privatePem: key.privatePem, schemes: ['file'] });
  const files = () => readdirSync(dir).sort();
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return { dir, ctx, modelUri, expect, sign, files, read };
}

const conflict = (pattern: RegExp) => (err: unknown) => err instanceof ReconcileFailure && err.code === 'PROVENANCE_CONFLICT' && pattern.test(err.message);

describe('storing provenance next to a model', () => {
  it('when both names are free, writes the bundle and the envelope line derived from it', async () => {
    const t = await setup();
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    const signed = await t.sign();
    const stored = await writeSlots(t.ctx, slots, signed, t.expect);
    assert.equal(stored.bundle, `${t.modelUri}.sigstore.json`);
    assert.equal(stored.warning, undefined);
    assert.equal(t.read('model.pth.sigstore.json'), signed.bundleJson);
    assert.deepEqual(JSON.parse(t.read('model.pth.intoto.jsonl')), (JSON.parse(signed.bundleJson) as { dsseEnvelope: unknown }).dsseEnvelope);
  });

  it('adopts the bundle an earlier attempt of ours stored for this run, without signing again', async () => {
    const t = await setup();
    const earlier = await t.sign();
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), earlier.bundleJson);
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    assert.equal(hasOurBundle(slots), true);
    const stored = await writeSlots(t.ctx, slots, undefined, t.expect);
    assert.equal(stored.warning, undefined);
    assert.equal(t.read('model.pth.sigstore.json'), earlier.bundleJson);
    assert.equal(t.read('model.pth.intoto.jsonl'), earlier.envelopeJsonl);
  });

  it('refuses a bundle the training pod planted with its own key for this run and digest, and leaves it as it was', async () => {
    const t = await setup();
    const planted = await t.sign(tenantKey);
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), planted.bundleJson);
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, t.expect), conflict(/model\.pth\.sigstore\.json already exists .*signature check failed/));
    assert.equal(t.read('model.pth.sigstore.json'), planted.bundleJson);
    assert.deepEqual(t.files(), ['model.pth', 'model.pth.sigstore.json']);
  });

  it('refuses our own signature over another run', async () => {
    const t = await setup();
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), (await t.sign(operatorKey, randomUUID())).bundleJson);
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, t.expect), conflict(/OTHER_RUN/));
  });

  it('refuses an object that is not provenance at all, or is too large to be ours', async () => {
    const t = await setup();
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), 'not json');
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, t.expect), conflict(/document check failed/));
    const u = await setup();
    writeFileSync(join(u.dir, 'model.pth.sigstore.json'), 'x'.repeat(2 << 20));
    await assert.rejects(inspectSlots(u.ctx, u.modelUri, u.expect), conflict(/larger than/));
  });

  it('refuses a planted envelope when the bundle name is free: nothing is written, so nothing verifiable sits next to a failed run', async () => {
    const t = await setup();
    const planted = (await t.sign(tenantKey)).envelopeJsonl;
    writeFileSync(join(t.dir, 'model.pth.intoto.jsonl'), planted);
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, t.expect), conflict(/model\.pth\.intoto\.jsonl already exists/));
    assert.deepEqual(t.files(), ['model.pth', 'model.pth.intoto.jsonl']);
    assert.equal(t.read('model.pth.intoto.jsonl'), planted);
  });

  it('keeps the run signed when our bundle is stored but the envelope name holds something else, and says so', async () => {
    const t = await setup();
    const ours = await t.sign();
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), ours.bundleJson);
    writeFileSync(join(t.dir, 'model.pth.intoto.jsonl'), 'planted');
    const stored = await writeSlots(t.ctx, await inspectSlots(t.ctx, t.modelUri, t.expect), undefined, t.expect);
    assert.match(stored.warning ?? '', /model\.pth\.intoto\.jsonl holds an object this operator did not write/);
    assert.equal(t.read('model.pth.intoto.jsonl'), 'planted');
  });

  it('when the envelope name is taken between inspection and write, the bundle stays the record and a warning names the envelope', async () => {
    const t = await setup();
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    writeFileSync(join(t.dir, 'model.pth.intoto.jsonl'), 'raced');
    const stored = await writeSlots(t.ctx, slots, await t.sign(), t.expect);
    assert.match(stored.warning ?? '', /intoto\.jsonl holds an object this operator did not write/);
    assert.equal(t.read('model.pth.intoto.jsonl'), 'raced');
  });

  it('when the bundle name is taken between inspection and write by something not ours, fails and leaves it', async () => {
    const t = await setup();
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    const planted = (await t.sign(tenantKey)).bundleJson;
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), planted);
    await assert.rejects(writeSlots(t.ctx, slots, await t.sign(), t.expect), conflict(/sigstore\.json already exists/));
    assert.equal(t.read('model.pth.sigstore.json'), planted);
    assert.deepEqual(t.files(), ['model.pth', 'model.pth.sigstore.json']);
  });

  it('without a way to recognise its own signatures, accepts nothing already stored', async () => {
    const t = await setup();
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), (await t.sign()).bundleJson);
    await assert.rejects(inspectSlots({ ...t.ctx, ownVerifier: undefined }, t.modelUri, t.expect), conflict(/no verification identity/));
  });
});
