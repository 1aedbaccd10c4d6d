// The operator's verification summaries beside a model, on real file:// storage with real
// signatures: written create-only after the provenance, judged on the bundle of record; an
// existing object is adopted only when it is our own summary of this model for this policy, and
// anything else is left byte-for-byte with a warning, never failing the provenance. With no policy
// configured, nothing more is asked of storage.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { PrefetchingStorage } from '../../operator/reconcile/prefetch.ts';
import { inspectSlots, writeSlots, type StoreContext } from '../../operator/reconcile/store.ts';
import { summarySlots, writeSummaries, type SummaryContext, type SummarySettings } from '../../operator/reconcile/summaries.ts';
import { defaultVerifierId } from '../../operator/wiring.ts';
import type { ModelDigest } from '../../src/digest/index.ts';
import { summaryLocation } from '../../src/layout/index.ts';
import { parsePolicy } from '../../src/policy/index.ts';
import { createSigner, type Signer } from '../../src/signing/index.ts';
import { createStorage, type Storage } from '../../src/storage/index.ts';
import { createSignatureVerifier } from '../../src/verify/index.ts';
import { buildSummary, policyCheck, resourceUriCheck, resultCheck, signSummary, summaryFacts, verifySummary } from '../../src/vsa/index.ts';
import { signRun } from '../support/cli.ts';
import { sha256 } from '../support/training-run.ts';

function keyPair(): { privatePem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const operatorKey = keyPair();
const tenantKey = keyPair();
const NOW = new Date('2026-01-15T12:00:00Z');
const PASSING = parsePolicy('name: https://acme.example/policies/serving\nnamespace: team-vision\n', 'serving.yaml');
const DENYING = parsePolicy('name: https://acme.example/policies/no-torch\ndeny: [pkg:pypi/torch]\n', 'no-torch.yaml');

/** Counts what is signed, so "adopted without signing" can be told from "signed again". */
function countingSigner(signer: Signer): Signer & { count: () => number } {
  let n = 0;
  return { sign: (...args) => { n++; return signer.sign(...args); }, count: () => n };
}

async function setup(policies = [PASSING, DENYING], options: { modelSignature?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'summaries-'));
  const model = Buffer.from(`weights ${randomUUID()}`);
  writeFileSync(join(dir, 'model.pth'), model);
  const modelUri = `${pathToFileURL(dir).href}/model.pth`;
  const ownVerifier = await createSignatureVerifier({ kind: 'key', publicKeyPem: operatorKey.publicKeyPem });
  const storage = createStorage({ fileRoot: dir });
  const ctx: StoreContext = { storage, ownVerifier, maxBytes: 1 << 20, modelSignature: options.modelSignature ?? false };
  const signer = countingSigner(await createSigner({ kind: 'key', keyPem: operatorKey.privatePem }));
  const settings: SummarySettings = {
    verifierId: defaultVerifierId('https://slsa-ml.dev/operator/test'),
    verifierVersion: { 'slsa-ml': '0.2.0' },
    levels: ['SLSA_BUILD_LEVEL_3'],
    policies: policies.map((p) => ({ uri: p.name ?? 'file:///p.yaml', digest: p.digest, rules: p.rules })),
  };
  const summaries: SummaryContext = { ...ctx, signer, settings };
  const uid = randomUUID();
  const measured: ModelDigest = { kind: 'file', sha256: sha256(model), fileCount: 1, totalBytes: model.length };
  const expect = { invocationId: uid, measured };
  const provenance = await signRun({ modelUri, uid, namespace: 'team-vision', frameworks: ['pkg:pypi/torch@2.8.0'] }, measured, { privatePem: operatorKey.privatePem, schemes: ['file'] });
  /** Inspect, store the provenance, then the summaries: as attest.ts does. */
  const attest = async (): Promise<string[]> => {
    const slots = await inspectSlots(ctx, modelUri, expect, summarySlots(summaries, modelUri, measured.sha256));
    const stored = await writeSlots(ctx, slots, slots.bundle.state === 'ours' ? {} : { provenance }, expect);
    return writeSummaries(summaries, slots.others, { modelUri, sha256: measured.sha256, bundleUri: stored.bundle, bundleJson: stored.bundleJson, modelSignature: stored.signature !== undefined, now: NOW });
  };
  const nameOf = (policy = PASSING, uri = modelUri) => summaryLocation(uri, policy.digest).split('/').pop() ?? '';
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  /** A consumer's verdict on a summary file: what verify --vsa checks, with the operator's public key. */
  const verdict = async (name: string, policy = PASSING) => verifySummary({
    summary: read(name), trust: ownVerifier, checks: [resourceUriCheck(modelUri), policyCheck(policy.digest), resultCheck], artifact: { sha256: measured.sha256 },
  });
  return { dir, modelUri, measured, storage, signer, summaries, provenance, attest, nameOf, read, verdict, files: () => readdirSync(dir).sort() };
}

describe('verification summaries the operator writes', () => {
  it('writes one per policy after the provenance: PASSED for the policy the run meets, FAILED for the one it does not', async () => {
    const t = await setup();
    assert.deepEqual(await t.attest(), []);
    assert.deepEqual(t.files(), ['model.pth', 'model.pth.intoto.jsonl', 'model.pth.sigstore.json', t.nameOf(PASSING), t.nameOf(DENYING)].sort());
    const passed = await t.verdict(t.nameOf(PASSING));
    assert.equal(passed.ok, true, JSON.stringify(passed.checks));
    const facts = summaryFacts(passed.statement ?? assert.fail('no statement'));
    assert.equal(facts.verifierId, 'https://slsa-ml.dev/operator/test#verifier');
    assert.equal(facts.timeVerified, '2026-01-15T12:00:00Z');
    assert.deepEqual(facts.verifiedLevels, ['SLSA_BUILD_LEVEL_3']);
    assert.deepEqual(facts.policy, { uri: 'https://acme.example/policies/serving', sha256: PASSING.digest });
    // The input attestation is the stored bundle, by the digest of its bytes.
    assert.deepEqual(facts.inputAttestations, [{ uri: `${t.modelUri}.sigstore.json`, sha256: createHash('sha256').update(t.read('model.pth.sigstore.json')).digest('hex') }]);
    const failed = await t.verdict(t.nameOf(DENYING), DENYING);
    assert.deepEqual(failed.checks.filter((c) => !c.ok).map((c) => c.code), ['SUMMARY_FAILED']);
    assert.deepEqual(summaryFacts(failed.statement ?? assert.fail('no statement')).verifiedLevels, []);
  });

  it('judges require-model-signature by what is stored: FAILED with model signatures off', async () => {
    const policy = parsePolicy('require-model-signature: true\n', 'sig.yaml');
    const off = await setup([policy]);
    await off.attest();
    assert.deepEqual((await off.verdict(off.nameOf(policy), policy)).checks.filter((c) => !c.ok).map((c) => c.code), ['SUMMARY_FAILED']);
    const on = await setup([policy], { modelSignature: true });
    // The .sig needs signing by the caller: store one of ours first, as writeSlots would have.
    const { manifestOf, serializeModelSigningStatement, signModelSigningPayload } = await import('../../src/model-signing/index.ts');
    writeFileSync(join(on.dir, 'model.pth.sig'), await signModelSigningPayload(serializeModelSigningStatement(manifestOf('model.pth', on.measured)), await createSigner({ kind: 'key', keyPem: operatorKey.privatePem })));
    await on.attest();
    assert.equal((await on.verdict(on.nameOf(policy), policy)).ok, true);
  });

  it('after a crash, adopts the summaries an earlier attempt stored, signing nothing', async () => {
    const t = await setup();
    await t.attest();
    const before = [t.read(t.nameOf(PASSING)), t.read(t.nameOf(DENYING))];
    const signed = t.signer.count();
    assert.deepEqual(await t.attest(), []);
    assert.equal(t.signer.count(), signed, 'nothing signed again');
    assert.deepEqual([t.read(t.nameOf(PASSING)), t.read(t.nameOf(DENYING))], before);
  });

  it('adopts our own summary of this model for this policy whatever its time and verdict (the policy was judged once)', async () => {
    const t = await setup([PASSING]);
    const earlier = buildSummary({
      verifierId: 'https://slsa-ml.dev/operator/test#verifier', verifierVersion: { 'slsa-ml': '0.1.0' }, timeVerified: new Date('2025-12-01T00:00:00Z'), modelUri: t.modelUri, sha256: t.measured.sha256,
      policy: { uri: 'old', digest: PASSING.digest }, provenance: { uri: `${t.modelUri}.sigstore.json`, sha256: sha256('x') }, passed: false, levels: [],
    });
    const content = await signSummary(earlier, await createSigner({ kind: 'key', keyPem: operatorKey.privatePem }));
    writeFileSync(join(t.dir, t.nameOf()), content);
    assert.deepEqual(await t.attest(), []);
    assert.equal(t.read(t.nameOf()), content);
  });

  it('leaves a summary planted with another key for this model and policy, and warns; the provenance is stored', async () => {
    const t = await setup([PASSING]);
    const forged = await signSummary(buildSummary({
      verifierId: 'https://slsa-ml.dev/operator/test#verifier', verifierVersion: {}, timeVerified: NOW, modelUri: t.modelUri, sha256: t.measured.sha256,
      policy: { uri: 'x', digest: PASSING.digest }, provenance: { uri: 'x', sha256: sha256('x') }, passed: true, levels: ['SLSA_BUILD_LEVEL_3'],
    }), await createSigner({ kind: 'key', keyPem: tenantKey.privatePem }));
    writeFileSync(join(t.dir, t.nameOf()), forged);
    const warnings = await t.attest();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /\.vsa-[0-9a-f]{16}\.sigstore\.json holds an object this operator did not write \(signature check failed: WRONG_KEY .*left untouched — the model has no verification summary of ours for policy https:\/\/acme\.example\/policies\/serving/);
    assert.equal(t.read(t.nameOf()), forged);
    assert.equal(t.read('model.pth.sigstore.json'), t.provenance.bundleJson);
  });

  it('leaves our own summary of another model copied here, with a warning', async () => {
    const other = await setup([PASSING]);
    await other.attest();
    const t = await setup([PASSING]);
    const copied = other.read(other.nameOf(PASSING));
    writeFileSync(join(t.dir, t.nameOf(PASSING)), copied);
    const [warning, ...rest] = await t.attest();
    assert.deepEqual(rest, []);
    assert.match(warning ?? '', /resourceUri check failed: RESOURCE_MISMATCH/);
    assert.equal(t.read(t.nameOf(PASSING)), copied);
  });

  it('leaves our own summary for another policy under this policy\'s name, with a warning', async () => {
    const t = await setup([PASSING]);
    const forOther = await signSummary(buildSummary({
      verifierId: 'v', verifierVersion: {}, timeVerified: NOW, modelUri: t.modelUri, sha256: t.measured.sha256,
      policy: { uri: 'x', digest: DENYING.digest }, provenance: { uri: 'x', sha256: sha256('x') }, passed: true, levels: [],
    }), await createSigner({ kind: 'key', keyPem: operatorKey.privatePem }));
    writeFileSync(join(t.dir, t.nameOf()), forOther);
    const [warning, ...rest] = await t.attest();
    assert.deepEqual(rest, []);
    assert.match(warning ?? '', /policy check failed: POLICY_MISMATCH/);
    assert.equal(t.read(t.nameOf()), forOther);
  });

  it('a name taken between inspection and write is judged when the create-only write is refused', async () => {
    const t = await setup([PASSING]);
    const slots = await inspectSlots({ storage: t.storage, ownVerifier: t.summaries.ownVerifier, maxBytes: 1 << 20, modelSignature: false }, t.modelUri, { invocationId: 'x', measured: t.measured }, summarySlots(t.summaries, t.modelUri, t.measured.sha256));
    assert.equal(slots.others[0]?.state, 'empty');
    writeFileSync(join(t.dir, t.nameOf()), 'written meanwhile');
    const warnings = await writeSummaries(t.summaries, slots.others, { modelUri: t.modelUri, sha256: t.measured.sha256, bundleUri: `${t.modelUri}.sigstore.json`, bundleJson: t.provenance.bundleJson, modelSignature: false, now: NOW });
    assert.match(warnings[0] ?? '', /holds an object this operator did not write/);
    assert.equal(t.read(t.nameOf()), 'written meanwhile');
  });
});

describe('what summaries cost', () => {
  function recording(storage: Storage): { storage: Storage; statAll: string[][] } {
    const statAll: string[][] = [];
    const wrapped = Object.create(storage) as Storage;
    wrapped.statAll = (uris) => { statAll.push([...uris]); return storage.statAll(uris); };
    return { storage: wrapped, statAll };
  }

  it('with no policy, the inspection asks for the three names it always asked for', async () => {
    const t = await setup([]);
    const r = recording(t.storage);
    await inspectSlots({ storage: r.storage, ownVerifier: undefined, maxBytes: 1 << 20, modelSignature: true }, t.modelUri, { invocationId: 'x', measured: t.measured }, summarySlots(t.summaries, t.modelUri, t.measured.sha256));
    assert.deepEqual(r.statAll, [[`${t.modelUri}.sigstore.json`, `${t.modelUri}.intoto.jsonl`, `${t.modelUri}.sig`]]);
    assert.deepEqual(await writeSummaries(t.summaries, [], { modelUri: t.modelUri, sha256: t.measured.sha256, bundleUri: '', bundleJson: '', modelSignature: false, now: NOW }), []);
  });

  it('with policies, their names are looked up with the model in the one request, and the inspection asks nothing more', async () => {
    const t = await setup();
    const r = recording(t.storage);
    const view = new PrefetchingStorage(r.storage, { modelSignature: false, summaryDigests: t.summaries.settings.policies.map((p) => p.digest) });
    await view.stat(t.modelUri);
    await inspectSlots({ storage: view, ownVerifier: undefined, maxBytes: 1 << 20, modelSignature: false }, t.modelUri, { invocationId: 'x', measured: t.measured }, summarySlots(t.summaries, t.modelUri, t.measured.sha256));
    assert.deepEqual(r.statAll, [[t.modelUri, `${t.modelUri}.sigstore.json`, `${t.modelUri}.intoto.jsonl`, summaryLocation(t.modelUri, PASSING.digest), summaryLocation(t.modelUri, DENYING.digest)]]);
  });
});

describe('the verifier id', () => {
  it('names the installation in its verifier role: the builder id with a #verifier fragment', () => {
    assert.equal(defaultVerifierId('https://slsa-ml.dev/operator/prod'), 'https://slsa-ml.dev/operator/prod#verifier');
    assert.equal(defaultVerifierId('https://slsa-ml.dev/operator#prod'), 'https://slsa-ml.dev/operator#prod/verifier');
  });
});
