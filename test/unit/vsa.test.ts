// Verification summaries (SLSA VSA v1): built, signed through the Signer seam (key and Cloud KMS),
// and verified back; each way a summary can be wrong fails one named check with its own code.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { evaluatePolicy, parsePolicy } from '../../src/policy/index.ts';
import type { JsonObject } from '../../src/provenance/index.ts';
import { createSigner, signStatement } from '../../src/signing/index.ts';
import { isStatement, parseStatement, type StatementCheck } from '../../src/verify/index.ts';
import { SLSA_BUILD_LEVEL_3, VSA_PREDICATE_TYPE, buildSummary, policyCheck, resourceUriCheck, resultCheck, serializeSummary, signSummary, timeVerifiedCheck, verifierIdCheck, verifySummary, type SummaryInput } from '../../src/vsa/index.ts';
import { signRun } from '../support/cli.ts';
import { startKmsStandin, type KmsStandin } from '../support/kms-standin.ts';
import { sha256 } from '../support/training-run.ts';

function keyPair(): { privatePem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const platform = keyPair();
const other = keyPair();
const MODEL = 'gs://ml-models/cifar10/v3/pytorch_model.pth';
const DIGEST = sha256('weights');
const POLICY_DIGEST = sha256('policy');
const VERIFIER = 'https://slsa-ml.dev/operator/prod#verifier';
const VERIFIED = new Date('2026-01-15T11:00:00.123Z');
const NOW = () => new Date('2026-01-15T12:00:00Z');

let kms: KmsStandin;
before(async () => { kms = await startKmsStandin(); });
after(() => kms.close());

function input(overrides: Partial<SummaryInput> = {}): SummaryInput {
  return {
    verifierId: VERIFIER,
    verifierVersion: { 'slsa-ml': '0.2.0' },
    timeVerified: VERIFIED,
    modelUri: MODEL,
    sha256: DIGEST,
    policy: { uri: 'https://acme.example/policies/serving/v1', digest: POLICY_DIGEST },
    provenance: { uri: `${MODEL}.sigstore.json`, sha256: sha256('bundle') },
    passed: true,
    levels: [SLSA_BUILD_LEVEL_3],
    ...overrides,
  };
}

async function signed(overrides: Partial<SummaryInput> = {}, key = platform): Promise<string> {
  return signSummary(buildSummary(input(overrides)), await createSigner({ kind: 'key', keyPem: key.privatePem }));
}

const consumer = (extra: StatementCheck[] = []): StatementCheck[] => [resourceUriCheck(MODEL), policyCheck(POLICY_DIGEST), resultCheck, ...extra];

async function failures(summary: string, checks = consumer(), artifact: { sha256: string } | undefined = { sha256: DIGEST }): Promise<Record<string, string>> {
  const result = await verifySummary({ summary, trust: { kind: 'key', publicKeyPem: platform.publicKeyPem }, checks, ...(artifact ? { artifact } : {}) });
  assert.equal(result.ok, false);
  return Object.fromEntries(result.checks.filter((c) => !c.ok).map((c) => [c.name, c.code ?? '']));
}

/** Signs an arbitrary statement, to build summaries the operator would never write. */
async function signedJson(statement: JsonObject): Promise<string> {
  return (await signStatement(serializeSummary(statement), await createSigner({ kind: 'key', keyPem: platform.privatePem }))).bundleJson;
}

describe('a verification summary as the operator writes it', () => {
  it('is an in-toto Statement with the VSA v1 predicate: the model as subject, the policy and provenance by digest', () => {
    const statement = buildSummary(input());
    assert.deepEqual(statement, {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: MODEL, digest: { sha256: DIGEST } }],
      predicateType: 'https://slsa.dev/verification_summary/v1',
      predicate: {
        verifier: { id: VERIFIER, version: { 'slsa-ml': '0.2.0' } },
        timeVerified: '2026-01-15T11:00:00Z',
        resourceUri: MODEL,
        policy: { uri: 'https://acme.example/policies/serving/v1', digest: { sha256: POLICY_DIGEST } },
        inputAttestations: [{ uri: `${MODEL}.sigstore.json`, digest: { sha256: sha256('bundle') } }],
        verificationResult: 'PASSED',
        verifiedLevels: ['SLSA_BUILD_LEVEL_3'],
        slsaVersion: '1.0',
      },
    });
    // Canonical bytes: the same summary serializes the same way.
    assert.equal(serializeSummary(statement).toString(), serializeSummary(buildSummary(input())).toString());
  });

  it('states no level when the policy failed', () => {
    const predicate = buildSummary(input({ passed: false })).predicate as { verificationResult: string; verifiedLevels: string[] };
    assert.equal(predicate.verificationResult, 'FAILED');
    assert.deepEqual(predicate.verifiedLevels, []);
  });

  it('verifies with the platform key: every check passes, the model measured last', async () => {
    let measured = 0;
    const result = await verifySummary({
      summary: await signed(),
      trust: { kind: 'key', publicKeyPem: platform.publicKeyPem },
      checks: consumer([verifierIdCheck(VERIFIER), timeVerifiedCheck(86_400_000, NOW)]),
      artifact: () => { measured++; return Promise.resolve({ sha256: DIGEST }); },
    });
    assert.equal(result.ok, true, JSON.stringify(result.checks));
    assert.deepEqual(result.checks.map((c) => c.name), ['document', 'payloadType', 'signatureCount', 'signature', 'statement', 'statementType', 'predicateType', 'resourceUri', 'policy', 'verificationResult', 'verifierId', 'maxAge', 'subject']);
    assert.equal(measured, 1);
    assert.equal(result.signer?.kind, 'key');
  });

  it('signed through Cloud KMS, verifies with the KMS key version', async () => {
    const summary = await signSummary(buildSummary(input()), await createSigner({ kind: 'kms', keyName: kms.keyName, apiEndpoint: kms.endpoint }));
    const result = await verifySummary({ summary, trust: { kind: 'kms', keyName: kms.keyName, apiEndpoint: kms.endpoint }, checks: consumer(), artifact: { sha256: DIGEST } });
    assert.equal(result.ok, true, JSON.stringify(result.checks));
  });

  it('without a measurement, takes the summary\'s own digest and says the model was not read', async () => {
    const result = await verifySummary({ summary: await signed(), trust: { kind: 'key', publicKeyPem: platform.publicKeyPem }, checks: consumer() });
    assert.equal(result.ok, true);
    assert.match(result.checks.at(-1)?.detail ?? '', /taken from the summary: the model was not read/);
  });
});

describe('a summary that must not be trusted fails one named check', () => {
  it('signed by another key: signature, WRONG_KEY, and nothing after it is read', async () => {
    const result = await verifySummary({ summary: await signed({}, other), trust: { kind: 'key', publicKeyPem: platform.publicKeyPem }, checks: consumer(), artifact: () => assert.fail('not measured') });
    assert.deepEqual(result.checks.filter((c) => !c.ok).map((c) => [c.name, c.code]), [['signature', 'WRONG_KEY']]);
    assert.equal(result.statement, undefined);
  });

  it('provenance, not a summary: predicateType', async () => {
    const provenance = await signRun({ modelUri: MODEL, uid: randomUUID() }, { kind: 'file', sha256: DIGEST, fileCount: 1, totalBytes: 7 }, { privatePem: platform.privatePem });
    assert.deepEqual(await failures(provenance.bundleJson), { predicateType: 'PREDICATE_TYPE', resourceUri: 'RESOURCE_MISSING', policy: 'POLICY_MISSING', verificationResult: 'RESULT_INVALID' });
  });

  it('for another model: resourceUri, RESOURCE_MISMATCH (a directory\'s trailing slash is the same model)', async () => {
    assert.deepEqual(await failures(await signed({ modelUri: 'gs://ml-models/other/pytorch_model.pth' })), { resourceUri: 'RESOURCE_MISMATCH' });
    const dir = await verifySummary({ summary: await signed({ modelUri: 'gs://b/m/saved_model/' }), trust: { kind: 'key', publicKeyPem: platform.publicKeyPem }, checks: [resourceUriCheck('gs://b/m/saved_model')], artifact: { sha256: DIGEST } });
    assert.equal(dir.ok, true);
  });

  it('for another policy: policy, POLICY_MISMATCH', async () => {
    assert.deepEqual(await failures(await signed({ policy: { uri: 'other', digest: sha256('other policy') } })), { policy: 'POLICY_MISMATCH' });
  });

  it('a FAILED verdict: verificationResult, SUMMARY_FAILED', async () => {
    assert.deepEqual(await failures(await signed({ passed: false })), { verificationResult: 'SUMMARY_FAILED' });
  });

  it('another verifier: verifierId, VERIFIER_MISMATCH', async () => {
    assert.deepEqual(await failures(await signed({ verifierId: 'https://elsewhere.example/verifier' }), consumer([verifierIdCheck(VERIFIER)])), { verifierId: 'VERIFIER_MISMATCH' });
  });

  it('too old, or from the future: maxAge', async () => {
    assert.deepEqual(await failures(await signed(), consumer([timeVerifiedCheck(30 * 60_000, NOW)])), { maxAge: 'TOO_OLD' });
    assert.deepEqual(await failures(await signed({ timeVerified: new Date('2026-01-15T13:00:00Z') }), consumer([timeVerifiedCheck(86_400_000, NOW)])), { maxAge: 'TIME_VERIFIED_IN_FUTURE' });
  });

  it('about other bytes than the model has now: subject, SUBJECT_MISMATCH; a measurement that fails: DIGEST_UNAVAILABLE', async () => {
    assert.deepEqual(await failures(await signed(), consumer(), { sha256: sha256('changed weights') }), { subject: 'SUBJECT_MISMATCH' });
    const result = await verifySummary({ summary: await signed(), trust: { kind: 'key', publicKeyPem: platform.publicKeyPem }, checks: consumer(), artifact: () => Promise.reject(new Error('gone')) });
    assert.equal(result.checks.at(-1)?.code, 'DIGEST_UNAVAILABLE');
  });

  it('is not measured when another check already failed', async () => {
    const result = await verifySummary({ summary: await signed({ passed: false }), trust: { kind: 'key', publicKeyPem: platform.publicKeyPem }, checks: consumer(), artifact: () => assert.fail('not measured') });
    assert.equal(result.checks.some((c) => c.name === 'subject'), false);
  });

  it('fields missing or of the wrong shape name themselves', async () => {
    const summary = await signedJson({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: MODEL, digest: { sha1: 'ab' } }], predicateType: VSA_PREDICATE_TYPE, predicate: { verifier: 'me', timeVerified: 'yesterday', verificationResult: 'MAYBE' } });
    assert.deepEqual(await failures(summary, consumer([verifierIdCheck(VERIFIER), timeVerifiedCheck(1000, NOW)])),
      { resourceUri: 'RESOURCE_MISSING', policy: 'POLICY_MISSING', verificationResult: 'RESULT_INVALID', verifierId: 'VERIFIER_MISSING', maxAge: 'TIME_VERIFIED_INVALID' });
    const noTime = await signedJson({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: MODEL, digest: { sha1: 'ab' } }], predicateType: VSA_PREDICATE_TYPE, predicate: { resourceUri: MODEL, policy: { digest: { sha256: POLICY_DIGEST } }, verificationResult: 'PASSED' } });
    assert.deepEqual(await failures(noTime, consumer([timeVerifiedCheck(1000, NOW)])), { maxAge: 'TIME_VERIFIED_MISSING' });
    assert.deepEqual(await failures(noTime), { subject: 'SUBJECT_MISSING' });
  });

  it('an in-toto v0.1 statement type: statementType', async () => {
    const statement = { ...buildSummary(input()), _type: 'https://in-toto.io/Statement/v0.1' };
    assert.deepEqual(await failures(await signedJson(statement)), { statementType: 'STATEMENT_TYPE' });
  });
});

describe('the policy verdict a summary records', () => {
  async function statementOf(frameworks: string[]) {
    const bundle = (await signRun({ modelUri: MODEL, frameworks, namespace: 'team-vision' }, { kind: 'file', sha256: DIGEST, fileCount: 1, totalBytes: 7 }, { privatePem: platform.privatePem })).bundleJson;
    const statement = parseStatement(Buffer.from((JSON.parse(bundle) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64'));
    assert.ok(isStatement(statement));
    return statement;
  }

  it('passes when every rule holds, with verify\'s own check names', async () => {
    const policy = parsePolicy('namespace: team-vision\ndeny: [pkg:pypi/torch@<2.6.0]\nrequire-model-signature: true\n', 'p.yaml');
    const verdict = await evaluatePolicy(await statementOf(['pkg:pypi/torch@2.8.0']), policy.rules, { modelSignature: true, now: NOW });
    assert.equal(verdict.passed, true);
    assert.deepEqual(verdict.checks.map((c) => c.name), ['namespace', 'deny pkg:pypi/torch@<2.6.0', 'modelSignature']);
  });

  it('fails on a denied framework, another namespace, or a missing model signature', async () => {
    const policy = parsePolicy('namespace: team-nlp\ndeny: [pkg:pypi/torch@<2.6.0]\nrequire-model-signature: true\n', 'p.yaml');
    const verdict = await evaluatePolicy(await statementOf(['pkg:pypi/torch@2.5.1']), policy.rules, { modelSignature: false, now: NOW });
    assert.equal(verdict.passed, false);
    assert.deepEqual(verdict.checks.filter((c) => !c.ok).map((c) => c.code), ['NAMESPACE_MISMATCH', 'DENIED_DEPENDENCY', 'MODEL_SIGNATURE_NOT_FOUND']);
  });
});
