import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { digestLocalPath } from '../../src/digest/index.ts';
import { createSigner, signStatement, type SignedProvenance } from '../../src/signing/index.ts';
import { createSignatureVerifier, failed, passed, verifyProvenance, type StatementCheck, type VerificationResult } from '../../src/verify/index.ts';
import { editEnvelope, envelopeOf, flipPayloadByte, newKeyPair, parseBundle, provenanceStatement, sha256Hex, signWithKey } from '../support/signing-fixtures.ts';

const key = newKeyPair();
let dir: string;
let modelPath: string;
let good: SignedProvenance;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slsa-ml-verify-'));
  modelPath = join(dir, 'model.safetensors');
  await writeFile(modelPath, Buffer.from('weights '.repeat(1000)));
  const measured = await digestLocalPath(modelPath);
  good = await signWithKey(key.privatePem, provenanceStatement([{ name: 'model.safetensors', sha256: measured.sha256 }]));
});
after(() => rm(dir, { recursive: true, force: true }));

const trust = () => ({ kind: 'key' as const, publicKeyPem: key.publicPem });
const measure = () => digestLocalPath(modelPath);

function firstFailure(result: VerificationResult): { name: string; code?: string } | undefined {
  const check = result.checks.find((c) => !c.ok);
  return check && { name: check.name, code: check.code };
}

// Every tamper case holds for both files written next to a model.
const forms = [
  ['bundle', () => good.bundleJson],
  ['envelope', () => good.envelopeJsonl],
] as const;

for (const [form, document] of forms) {
  describe(`when the ${form} and the model are as signed`, () => {
    it('passes every check and returns the statement and signer', async () => {
      const result = await verifyProvenance({ provenance: document(), trust: trust(), artifact: measure });
      assert.ok(result.ok, JSON.stringify(result.checks));
      assert.deepEqual(result.checks.map((c) => c.name), ['document', 'payloadType', 'signatureCount', 'signature', 'statement', 'statementType', 'predicateType', 'subject']);
      assert.equal(result.statement?.subject[0]?.name, 'model.safetensors');
      assert.equal(result.signer?.kind, 'key');
    });
  });

  describe(`when the ${form} or the model was tampered with`, () => {
    it('one byte changed in the model: SUBJECT_MISMATCH', async () => {
      const changed = join(dir, `changed-${form}.safetensors`);
      const bytes = Buffer.from('weights '.repeat(1000));
      bytes[500] = (bytes[500] as number) ^ 0x01;
      await writeFile(changed, bytes);
      const result = await verifyProvenance({ provenance: document(), trust: trust(), artifact: () => digestLocalPath(changed) });
      assert.deepEqual(firstFailure(result), { name: 'subject', code: 'SUBJECT_MISMATCH' });
      assert.equal(result.ok, false);
    });

    it('provenance of another model: SUBJECT_MISMATCH', async () => {
      const other = await signWithKey(key.privatePem, provenanceStatement([{ name: 'other.safetensors', sha256: sha256Hex('other model') }]));
      const provenance = form === 'bundle' ? other.bundleJson : other.envelopeJsonl;
      const result = await verifyProvenance({ provenance, trust: trust(), artifact: measure });
      assert.deepEqual(firstFailure(result), { name: 'subject', code: 'SUBJECT_MISMATCH' });
    });

    it('verified with another key: WRONG_KEY', async () => {
      const result = await verifyProvenance({ provenance: document(), trust: { kind: 'key', publicKeyPem: newKeyPair().publicPem }, artifact: measure });
      assert.deepEqual(firstFailure(result), { name: 'signature', code: 'WRONG_KEY' });
      assert.equal(result.statement, undefined, 'an unverified statement is never handed out');
    });

    it('one payload byte changed: SIGNATURE_INVALID', async () => {
      const result = await verifyProvenance({ provenance: editEnvelope(document(), flipPayloadByte), trust: trust(), artifact: measure });
      assert.deepEqual(firstFailure(result), { name: 'signature', code: 'SIGNATURE_INVALID' });
    });

    it('payloadType changed: PAYLOAD_TYPE', async () => {
      const provenance = editEnvelope(document(), (e) => (e.payloadType = 'application/json'));
      const result = await verifyProvenance({ provenance, trust: trust(), artifact: measure });
      assert.deepEqual(firstFailure(result), { name: 'payloadType', code: 'PAYLOAD_TYPE' });
    });

    it('two signatures: SIGNATURE_COUNT', async () => {
      const provenance = editEnvelope(document(), (e) => e.signatures.push({ ...e.signatures[0]! }));
      const result = await verifyProvenance({ provenance, trust: trust(), artifact: measure });
      assert.deepEqual(firstFailure(result), { name: 'signatureCount', code: 'SIGNATURE_COUNT' });
    });

    it('no signature: SIGNATURE_COUNT', async () => {
      const provenance = editEnvelope(document(), (e) => (e.signatures = []));
      const result = await verifyProvenance({ provenance, trust: trust(), artifact: measure });
      assert.deepEqual(firstFailure(result), { name: 'signatureCount', code: 'SIGNATURE_COUNT' });
    });
  });
}

describe('when the model is a directory', () => {
  it('matches the subject against the recomputed root digest, and notices one changed file', async () => {
    const model = join(dir, 'saved_model');
    await mkdir(join(model, 'variables'), { recursive: true });
    await writeFile(join(model, 'saved_model.pb'), 'graph');
    await writeFile(join(model, 'variables', 'variables.data-00000-of-00001'), 'weights');
    const root = await digestLocalPath(model);
    assert.equal(root.kind, 'directory');
    const signed = await signWithKey(key.privatePem, provenanceStatement([{ name: 'saved_model', sha256: root.sha256 }]));
    assert.ok((await verifyProvenance({ provenance: signed.bundleJson, trust: trust(), artifact: () => digestLocalPath(model) })).ok);

    await writeFile(join(model, 'variables', 'variables.data-00000-of-00001'), 'weightz');
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust: trust(), artifact: () => digestLocalPath(model) });
    assert.deepEqual(firstFailure(result), { name: 'subject', code: 'SUBJECT_MISMATCH' });
  });
});

describe('when the signed statement is not SLSA provenance v1', () => {
  it('another predicateType: PREDICATE_TYPE', async () => {
    const measured = await measure();
    const signed = await signWithKey(key.privatePem, provenanceStatement([{ name: 'm', sha256: measured.sha256 }], { predicateType: 'https://slsa.dev/provenance/v0.2' }));
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust: trust(), artifact: measured });
    assert.deepEqual(firstFailure(result), { name: 'predicateType', code: 'PREDICATE_TYPE' });
    assert.ok(result.statement, 'the authentic statement is returned so the caller can say what it is');
  });

  it('another _type: STATEMENT_TYPE', async () => {
    const measured = await measure();
    const signed = await signWithKey(key.privatePem, provenanceStatement([{ name: 'm', sha256: measured.sha256 }], { _type: 'https://in-toto.io/Statement/v0.2' }));
    const result = await verifyProvenance({ provenance: signed.envelopeJsonl, trust: trust(), artifact: measured });
    assert.deepEqual(firstFailure(result), { name: 'statementType', code: 'STATEMENT_TYPE' });
  });

  it('a payload that is not a statement: MALFORMED', async () => {
    const signer = await createSigner({ kind: 'key', keyPem: key.privatePem });
    const signed = await signStatement(Buffer.from('["not", "a", "statement"]'), signer);
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust: trust(), artifact: { sha256: sha256Hex('x') } });
    assert.deepEqual(firstFailure(result), { name: 'statement', code: 'MALFORMED' });
  });
});

describe('when the provenance file is not a bundle or an envelope', () => {
  for (const [what, provenance] of [
    ['empty', ''],
    ['not JSON', 'garbage'],
    ['two envelopes on two lines', `${JSON.stringify({ payload: '', payloadType: 'x', signatures: [] })}\n${JSON.stringify({ payload: '', payloadType: 'x', signatures: [] })}\n`],
    ['a bundle without an envelope', JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' })],
    ['a signature that is not base64', JSON.stringify({ payload: 'e30=', payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: '%%%' }] })],
  ] as const) {
    it(`${what}: MALFORMED`, async () => {
      const result = await verifyProvenance({ provenance, trust: trust(), artifact: { sha256: sha256Hex('x') } });
      assert.deepEqual(firstFailure(result), { name: 'document', code: 'MALFORMED' });
    });
  }

  it('a bundle that @sigstore/bundle rejects: MALFORMED', async () => {
    const bundle = parseBundle(good.bundleJson);
    delete bundle.verificationMaterial;
    const result = await verifyProvenance({ provenance: JSON.stringify(bundle), trust: trust(), artifact: measure });
    assert.deepEqual(firstFailure(result), { name: 'signature', code: 'MALFORMED' });
  });
});

describe('when the artifact cannot be measured', () => {
  it('reports DIGEST_UNAVAILABLE under the subject check', async () => {
    const result = await verifyProvenance({ provenance: good.bundleJson, trust: trust(), artifact: () => digestLocalPath(join(dir, 'missing')) });
    assert.deepEqual(firstFailure(result), { name: 'subject', code: 'DIGEST_UNAVAILABLE' });
  });

  it('does not measure at all when the signature fails', async () => {
    let measured = false;
    const artifact = async () => ((measured = true), measure());
    await verifyProvenance({ provenance: good.bundleJson, trust: { kind: 'key', publicKeyPem: newKeyPair().publicPem }, artifact });
    assert.equal(measured, false);
  });
});

describe('when policy checks are added', () => {
  const builder: StatementCheck = {
    name: 'builderId',
    evaluate: (s) => {
      const id = (s.predicate.runDetails as { builder?: { id?: string } } | undefined)?.builder?.id;
      return id === 'https://slsa-ml.dev/prod-builder' ? passed() : failed('BUILDER_ID', `builder ${id ?? '?'} is not trusted`);
    },
  };
  const broken: StatementCheck = { name: 'deniedFrameworks', evaluate: () => { throw new Error('list unavailable'); } };

  it('runs them after the built-in checks and reports each under its own name', async () => {
    const result = await verifyProvenance({ provenance: good.bundleJson, trust: trust(), artifact: measure, policies: [builder, broken] });
    assert.equal(result.ok, false);
    assert.deepEqual(result.checks.slice(-2).map((c) => [c.name, c.code]), [['builderId', 'BUILDER_ID'], ['deniedFrameworks', 'CHECK_ERROR']]);
    assert.ok(result.checks.find((c) => c.name === 'subject')?.ok);
  });
});

describe('when one verifier is reused for many models', () => {
  it('accepts a verifier made once by createSignatureVerifier', async () => {
    const verifier = await createSignatureVerifier(trust());
    for (const provenance of [good.bundleJson, good.envelopeJsonl]) {
      assert.ok((await verifyProvenance({ provenance, trust: verifier, artifact: measure })).ok);
    }
  });

  it('reports an unusable key as a failed signature check, not an exception', async () => {
    const result = await verifyProvenance({ provenance: good.bundleJson, trust: { kind: 'key', publicKeyPem: 'nope' }, artifact: measure });
    assert.deepEqual(firstFailure(result), { name: 'signature', code: 'KEY_INVALID' });
  });

  it('still verifies when the keyid is empty, as DSSE allows', async () => {
    const provenance = editEnvelope(good.envelopeJsonl, (e) => (e.signatures[0]!.keyid = ''));
    assert.equal(envelopeOf(provenance).signatures[0]?.keyid, '');
    assert.ok((await verifyProvenance({ provenance, trust: trust(), artifact: measure })).ok);
  });
});
