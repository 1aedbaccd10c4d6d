// The slots next to a model (bundle, envelope, model-signing signature), on real file:// storage
// with real signatures: what an earlier attempt of ours left is adopted, anything else is refused
// and left byte-for-byte.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { hasOurBundle, inspectSlots, needsModelSignature, writeSlots, type StoreContext } from '../../operator/reconcile/store.ts';
import { ReconcileFailure } from '../../operator/reconcile/index.ts';
import type { ModelDigest } from '../../src/digest/index.ts';
import { manifestOf, serializeModelSigningStatement, signModelSigningPayload, verifyModelSignature } from '../../src/model-signing/index.ts';
import { createSigner } from '../../src/signing/index.ts';
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

async function setup(options: { modelSignature?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'store-'));
  const model = Buffer.from(`weights ${randomUUID()}`);
  writeFileSync(join(dir, 'model.pth'), model);
  const modelUri = `${pathToFileURL(dir).href}/model.pth`;
  const ownVerifier = await createSignatureVerifier({ kind: 'key', publicKeyPem: operatorKey.publicKeyPem });
  const ctx: StoreContext = { storage: createStorage({ fileRoot: dir }), ownVerifier, maxBytes: 1 << 20, modelSignature: options.modelSignature ?? true };
  const uid = randomUUID();
  const measured: ModelDigest = { kind: 'file', sha256: sha256(model), fileCount: 1, totalBytes: model.length };
  const expect = { invocationId: uid, measured };
  const sign = (key = operatorKey, runUid = uid) => signRun({ modelUri, uid: runUid }, measured, { privatePem: key.privatePem, schemes: ['file'] });
  /** A model-signing signature over `of` (default: this model) with `key`. */
  const signModel = async (key = operatorKey, of: ModelDigest = measured) =>
    signModelSigningPayload(serializeModelSigningStatement(manifestOf('model.pth', of)), await createSigner({ kind: 'key', keyPem: key.privatePem }));
  const files = () => readdirSync(dir).sort();
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const verifiesAsOurs = async (name: string) => (await verifyModelSignature({ signature: read(name), trust: ownVerifier, model: measured })).ok;
  return { dir, ctx, modelUri, expect, measured, sign, signModel, files, read, verifiesAsOurs };
}

const conflict = (pattern: RegExp) => (err: unknown) => err instanceof ReconcileFailure && err.code === 'PROVENANCE_CONFLICT' && pattern.test(err.message);

describe('storing provenance next to a model', () => {
  it('when every name is free, writes the bundle, the envelope line derived from it, and a model signature of ours', async () => {
    const t = await setup();
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    assert.equal(needsModelSignature(slots), true);
    const signed = await t.sign();
    const stored = await writeSlots(t.ctx, slots, { provenance: signed, modelSignature: await t.signModel() }, t.expect);
    assert.equal(stored.bundle, `${t.modelUri}.sigstore.json`);
    assert.equal(stored.signature, `${t.modelUri}.sig`);
    assert.deepEqual(stored.warnings, []);
    assert.equal(t.read('model.pth.sigstore.json'), signed.bundleJson);
    assert.deepEqual(JSON.parse(t.read('model.pth.intoto.jsonl')), (JSON.parse(signed.bundleJson) as { dsseEnvelope: unknown }).dsseEnvelope);
    assert.equal(await t.verifiesAsOurs('model.pth.sig'), true);
  });

  it('adopts the bundle an earlier attempt of ours stored for this run, without signing it again, and adds what is missing', async () => {
    const t = await setup();
    const earlier = await t.sign();
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), earlier.bundleJson);
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    assert.equal(hasOurBundle(slots), true);
    assert.equal(needsModelSignature(slots), true);
    const stored = await writeSlots(t.ctx, slots, { modelSignature: await t.signModel() }, t.expect);
    assert.deepEqual(stored.warnings, []);
    assert.equal(t.read('model.pth.sigstore.json'), earlier.bundleJson);
    assert.equal(t.read('model.pth.intoto.jsonl'), earlier.envelopeJsonl);
    assert.equal(await t.verifiesAsOurs('model.pth.sig'), true);
  });

  it('adopts all three objects an earlier attempt of ours stored, signing nothing', async () => {
    const t = await setup();
    const earlier = await t.sign();
    const sig = await t.signModel();
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), earlier.bundleJson);
    writeFileSync(join(t.dir, 'model.pth.intoto.jsonl'), earlier.envelopeJsonl);
    writeFileSync(join(t.dir, 'model.pth.sig'), sig);
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    assert.equal(hasOurBundle(slots), true);
    assert.equal(needsModelSignature(slots), false);
    const stored = await writeSlots(t.ctx, slots, {}, t.expect);
    assert.deepEqual(stored, { bundle: `${t.modelUri}.sigstore.json`, bundleJson: earlier.bundleJson, signature: `${t.modelUri}.sig`, warnings: [] });
    assert.equal(t.read('model.pth.sig'), sig);
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

  it("at the pipeline level, adopts our own bundle for one of the PipelineRun's TaskRuns (attested before PipelineRuns were), and only for those", async () => {
    const t = await setup();
    const child = randomUUID();
    const earlier = await t.sign(operatorKey, child);
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), earlier.bundleJson);
    const pipeline = { ...t.expect, alsoRuns: [child] };
    const slots = await inspectSlots(t.ctx, t.modelUri, pipeline);
    assert.equal(hasOurBundle(slots), true);
    // Another TaskRun's bundle, even of ours, is still not this PipelineRun's.
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, { ...t.expect, alsoRuns: [randomUUID()] }), conflict(/OTHER_RUN it attests run "[0-9a-f-]+", not [0-9a-f-]+ or [0-9a-f-]+/));
    // And a tenant's bundle for the child's UID is refused as ever.
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), (await t.sign(tenantKey, child)).bundleJson);
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, pipeline), conflict(/./));
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
    const stored = await writeSlots(t.ctx, await inspectSlots(t.ctx, t.modelUri, t.expect), { modelSignature: await t.signModel() }, t.expect);
    assert.match(stored.warnings.join('\n'), /model\.pth\.intoto\.jsonl holds an object this operator did not write/);
    assert.equal(t.read('model.pth.intoto.jsonl'), 'planted');
  });

  it('when the envelope name is taken between inspection and write, the bundle stays the record and a warning names the envelope', async () => {
    const t = await setup();
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    writeFileSync(join(t.dir, 'model.pth.intoto.jsonl'), 'raced');
    const stored = await writeSlots(t.ctx, slots, { provenance: await t.sign(), modelSignature: await t.signModel() }, t.expect);
    assert.match(stored.warnings.join('\n'), /intoto\.jsonl holds an object this operator did not write/);
    assert.equal(t.read('model.pth.intoto.jsonl'), 'raced');
  });

  it('when the bundle name is taken between inspection and write by something not ours, fails and leaves it', async () => {
    const t = await setup();
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    const planted = (await t.sign(tenantKey)).bundleJson;
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), planted);
    await assert.rejects(writeSlots(t.ctx, slots, { provenance: await t.sign(), modelSignature: await t.signModel() }, t.expect), conflict(/sigstore\.json already exists/));
    assert.equal(t.read('model.pth.sigstore.json'), planted);
    assert.deepEqual(t.files(), ['model.pth', 'model.pth.sigstore.json']);
  });

  it('without a way to recognise its own signatures, accepts nothing already stored', async () => {
    const t = await setup();
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), (await t.sign()).bundleJson);
    await assert.rejects(inspectSlots({ ...t.ctx, ownVerifier: undefined }, t.modelUri, t.expect), conflict(/no verification identity/));
  });
});

describe('the model-signing signature next to a model (<model>.sig)', () => {
  it('refuses one planted before the run with the tenant key, for exactly this model: nothing is written, it is left as it was', async () => {
    const t = await setup();
    const planted = await t.signModel(tenantKey);
    writeFileSync(join(t.dir, 'model.pth.sig'), planted);
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, t.expect), conflict(/model\.pth\.sig already exists and is not this model's signature .*signature check failed/));
    assert.deepEqual(t.files(), ['model.pth', 'model.pth.sig']);
    assert.equal(t.read('model.pth.sig'), planted);
  });

  it('refuses one signed with our key over other bytes (another model, or this one before it changed)', async () => {
    const t = await setup();
    const other: ModelDigest = { ...t.measured, sha256: sha256(Buffer.from('other weights')) };
    writeFileSync(join(t.dir, 'model.pth.sig'), await t.signModel(operatorKey, other));
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, t.expect), conflict(/model\.pth\.sig .*files check failed: MODEL_MISMATCH/));
  });

  it('refuses anything that is not a model signature, even an SLSA bundle of ours for this run', async () => {
    const t = await setup();
    // Its key hint is cosign's (the SSH fingerprint), which model_signing refuses before reading the statement.
    writeFileSync(join(t.dir, 'model.pth.sig'), (await t.sign()).bundleJson);
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, t.expect), conflict(/model\.pth\.sig .*KEY_HINT_MISMATCH/));
    writeFileSync(join(t.dir, 'model.pth.sig'), 'not json');
    await assert.rejects(inspectSlots(t.ctx, t.modelUri, t.expect), conflict(/model\.pth\.sig .*document check failed/));
  });

  it('adopts a signature of ours over exactly these files even without our bundle (it states nothing untrue) and writes the provenance', async () => {
    const t = await setup();
    const copy = await t.signModel();
    writeFileSync(join(t.dir, 'model.pth.sig'), copy);
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    assert.equal(needsModelSignature(slots), false);
    const stored = await writeSlots(t.ctx, slots, { provenance: await t.sign() }, t.expect);
    assert.deepEqual(stored.warnings, []);
    assert.equal(stored.signature, `${t.modelUri}.sig`);
    assert.equal(t.read('model.pth.sig'), copy);
    assert.deepEqual(t.files(), ['model.pth', 'model.pth.intoto.jsonl', 'model.pth.sig', 'model.pth.sigstore.json']);
  });

  it('keeps the run signed when our bundle is stored but the .sig name holds something else, and a warning names it', async () => {
    const t = await setup();
    writeFileSync(join(t.dir, 'model.pth.sigstore.json'), (await t.sign()).bundleJson);
    const planted = await t.signModel(tenantKey);
    writeFileSync(join(t.dir, 'model.pth.sig'), planted);
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    assert.equal(needsModelSignature(slots), false);
    const stored = await writeSlots(t.ctx, slots, {}, t.expect);
    assert.equal(stored.signature, undefined);
    assert.match(stored.warnings.join('\n'), /model\.pth\.sig holds an object this operator did not write .*no model-signing signature of ours/);
    assert.equal(t.read('model.pth.sig'), planted);
  });

  it('when the .sig name is taken between inspection and write, the provenance is stored, the object left, and a warning names it', async () => {
    const t = await setup();
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    const raced = await t.signModel(tenantKey);
    writeFileSync(join(t.dir, 'model.pth.sig'), raced);
    const stored = await writeSlots(t.ctx, slots, { provenance: await t.sign(), modelSignature: await t.signModel() }, t.expect);
    assert.match(stored.warnings.join('\n'), /model\.pth\.sig holds an object this operator did not write/);
    assert.equal(t.read('model.pth.sig'), raced);
    assert.equal(stored.signature, undefined);
  });

  it('with model signatures off, neither inspects nor writes the .sig name', async () => {
    const t = await setup({ modelSignature: false });
    writeFileSync(join(t.dir, 'model.pth.sig'), 'whatever the tenant put here');
    const slots = await inspectSlots(t.ctx, t.modelUri, t.expect);
    assert.equal(needsModelSignature(slots), false);
    const signed = await t.sign();
    const stored = await writeSlots(t.ctx, slots, { provenance: signed }, t.expect);
    assert.deepEqual(stored, { bundle: `${t.modelUri}.sigstore.json`, bundleJson: signed.bundleJson, warnings: [] });
    assert.equal(t.read('model.pth.sig'), 'whatever the tenant put here');
  });
});
