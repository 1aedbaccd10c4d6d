// OpenSSF model-signing v1.0 signatures: the statement laid out as model_signing 1.1 signs it,
// the key named as it expects, and our verifier deciding as `model_signing verify` does. The real
// model_signing CLI judges the same files in test/integration/model-signing-cli.test.ts.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it, after, before } from 'node:test';

import type { ModelDigest } from '../../src/digest/index.ts';
import {
  manifestOf, modelNameOf, modelSigningKeyHint, modelSigningStatement, serializeModelSigningStatement, signModelSigningPayload, verifyModelSignature,
  type ModelManifest,
} from '../../src/model-signing/index.ts';
import { rootDigest } from '../../src/digest/index.ts';
import { createSigner, signStatement } from '../../src/signing/index.ts';
import { createSignatureVerifier, type SignatureVerifier } from '../../src/verify/index.ts';
import { identityToken, MOCK_ISSUER, startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';

const hex = (data: string): string => createHash('sha256').update(data).digest('hex');
const operator = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const operatorPem = operator.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = operator.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const tenant = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function directory(files: Record<string, string>): ModelDigest {
  const list = Object.entries(files).map(([path, data]) => ({ path, sha256: hex(data), size: data.length })).sort((a, b) => (a.path < b.path ? -1 : 1));
  return { kind: 'directory', sha256: rootDigest(list), fileCount: list.length, totalBytes: 0, files: list };
}
const savedModel = directory({ 'saved_model.pb': 'graph', 'variables/variables.index': 'index', 'variables/variables.data-00000-of-00001': 'weights' });
const singleFile: ModelDigest = { kind: 'file', sha256: hex('weights'), fileCount: 1, totalBytes: 7 };

async function signKey(manifest: ModelManifest, keyPem = operatorPem): Promise<string> {
  return signModelSigningPayload(serializeModelSigningStatement(manifest), await createSigner({ kind: 'key', keyPem }));
}
const trustOperator = (): Promise<SignatureVerifier> => createSignatureVerifier({ kind: 'key', publicKeyPem: publicPem });
const failures = (result: { checks: ReadonlyArray<{ ok: boolean; name: string; code?: string }> }): string[] => result.checks.filter((c) => !c.ok).map((c) => `${c.name}:${c.code ?? ''}`);

describe('the model-signing statement', () => {
  it('for a directory: one subject named after the model whose sha256 is our directory digest, every file as a sha256 resource, files serialization', () => {
    const statement = modelSigningStatement(manifestOf('saved_model', savedModel));
    assert.deepEqual(statement, {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'saved_model', digest: { sha256: savedModel.sha256 } }],
      predicateType: 'https://model_signing/signature/v1.0',
      predicate: {
        serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ['.git', '.gitattributes', '.github', '.gitignore'] },
        resources: (savedModel.files ?? []).map((f) => ({ name: f.path, algorithm: 'sha256', digest: f.sha256 })),
      },
    });
  });

  it('for a single file: its one resource "." is the file sha256 (the SLSA subject), and the subject chains that digest once', () => {
    const statement = modelSigningStatement(manifestOf('model.pth', singleFile)) as { subject: Array<{ digest: { sha256: string } }>; predicate: { resources: unknown[] } };
    assert.deepEqual(statement.predicate.resources, [{ name: '.', algorithm: 'sha256', digest: singleFile.sha256 }]);
    const chained = createHash('sha256').update(Buffer.from(singleFile.sha256, 'hex')).digest('hex');
    assert.equal(statement.subject[0]?.digest.sha256, chained);
    assert.notEqual(chained, singleFile.sha256);
  });

  it('refuses a directory measurement whose files do not chain to its digest: the two signatures could disagree', () => {
    assert.throws(() => manifestOf('m', { ...savedModel, sha256: hex('other') }), /do not chain/);
  });

  it('names the model by the last component of its URI, as model_signing names it by its path', () => {
    assert.equal(modelNameOf('gs://b/m/v3/saved_model/'), 'saved_model');
    assert.equal(modelNameOf('gs://b/m/v3/model.pth'), 'model.pth');
    assert.equal(modelNameOf('file:///tmp/with%20space/model%20a.pth'), 'model a.pth');
  });
});

describe('a key-signed model signature', () => {
  it('leaves the DSSE keyid empty and hints the key by the sha256 of its PEM, as model_signing sign key does', async () => {
    const bundle = JSON.parse(await signKey(manifestOf('model.pth', singleFile))) as { mediaType: string; verificationMaterial: { publicKey: { hint: string }; tlogEntries: unknown[] }; dsseEnvelope: { signatures: Array<{ keyid: string }> } };
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(bundle.dsseEnvelope.signatures[0]?.keyid, '');
    assert.equal(bundle.verificationMaterial.publicKey.hint, createHash('sha256').update(publicPem).digest('hex'));
    assert.deepEqual(bundle.verificationMaterial.tlogEntries, []);
  });

  it('hints the key the same whatever the PEM layout it came in (a KMS key)', () => {
    const der = createPublicKey(publicPem).export({ type: 'spki', format: 'der' }).toString('base64');
    const oneLine = `-----BEGIN PUBLIC KEY-----\n${der}\n-----END PUBLIC KEY-----\n`;
    assert.equal(modelSigningKeyHint(oneLine), modelSigningKeyHint(publicPem));
  });

  it('does not change how provenance names its key: the SSH fingerprint in keyid and hint', async () => {
    const signed = await signStatement(Buffer.from('{}'), await createSigner({ kind: 'key', keyPem: operatorPem }));
    const bundle = JSON.parse(signed.bundleJson) as { verificationMaterial: { publicKey: { hint: string } }; dsseEnvelope: { signatures: Array<{ keyid: string }> } };
    assert.match(bundle.verificationMaterial.publicKey.hint, /^SHA256:/);
    assert.equal(bundle.dsseEnvelope.signatures[0]?.keyid, bundle.verificationMaterial.publicKey.hint);
  });
});

describe('verifying a model signature', () => {
  it('passes for the signed model, file and directory', async () => {
    const trust = await trustOperator();
    for (const [name, model] of [['model.pth', singleFile], ['saved_model', savedModel]] as const) {
      const result = await verifyModelSignature({ signature: await signKey(manifestOf(name, model)), trust, model });
      assert.ok(result.ok, JSON.stringify(result.checks));
      assert.deepEqual(result.signer?.kind, 'key');
    }
  });

  it('fails after a byte flip, a renamed file or an added file, naming the file', async () => {
    const trust = await trustOperator();
    const signature = await signKey(manifestOf('saved_model', savedModel));
    const files = { 'saved_model.pb': 'graph', 'variables/variables.index': 'index', 'variables/variables.data-00000-of-00001': 'weights' };
    const cases: Array<[string, ModelDigest, RegExp]> = [
      ['byte flip', directory({ ...files, 'saved_model.pb': 'grapH' }), /sha256 differs: "saved_model\.pb"/],
      ['renamed', directory({ 'saved_model.pb': 'graph', 'variables/variables.index': 'index', 'variables/renamed.data': 'weights' }), /not in the signature: "variables\/renamed\.data".*missing: "variables\/variables\.data-00000-of-00001"/],
      ['added', directory({ ...files, 'extra.txt': 'x' }), /not in the signature: "extra\.txt"/],
    ];
    for (const [what, model, reason] of cases) {
      const result = await verifyModelSignature({ signature, trust, model });
      assert.deepEqual(failures(result), ['files:MODEL_MISMATCH'], what);
      assert.match(result.checks.at(-1)?.reason ?? '', reason, what);
    }
    const flipped = await verifyModelSignature({ signature: await signKey(manifestOf('model.pth', singleFile)), trust, model: { ...singleFile, sha256: hex('weightS') } });
    assert.deepEqual(failures(flipped), ['files:MODEL_MISMATCH']);
  });

  it('leaves out files under the signature\'s ignore_paths, as model_signing does', async () => {
    const payload = JSON.parse(serializeModelSigningStatement(manifestOf('saved_model', savedModel)).toString()) as { predicate: { serialization: { ignore_paths: string[] } } };
    payload.predicate.serialization.ignore_paths.push('assets');
    const signature = await signModelSigningPayload(Buffer.from(JSON.stringify(payload)), await createSigner({ kind: 'key', keyPem: operatorPem }));
    const withAssets = directory({ 'saved_model.pb': 'graph', 'variables/variables.index': 'index', 'variables/variables.data-00000-of-00001': 'weights', 'assets/vocab.txt': 'v' });
    assert.ok((await verifyModelSignature({ signature, trust: await trustOperator(), model: withAssets })).ok);
  });

  it('fails for another key, naming it by its hint (WRONG_KEY), and says which check refused a tampered key hint', async () => {
    const trust = await trustOperator();
    const foreign = await verifyModelSignature({ signature: await signKey(manifestOf('model.pth', singleFile), tenant), trust, model: singleFile });
    assert.deepEqual(failures(foreign), ['signature:WRONG_KEY']);
    // Without a hint, nothing names the key: the signature simply does not verify.
    const unnamed = JSON.parse(await signKey(manifestOf('model.pth', singleFile), tenant)) as { verificationMaterial: { publicKey: { hint: string } } };
    unnamed.verificationMaterial.publicKey.hint = '';
    assert.deepEqual(failures(await verifyModelSignature({ signature: JSON.stringify(unnamed), trust, model: singleFile })), ['signature:SIGNATURE_INVALID']);
    const bundle = JSON.parse(await signKey(manifestOf('model.pth', singleFile))) as { verificationMaterial: { publicKey: { hint: string } } };
    bundle.verificationMaterial.publicKey.hint = hex('another key');
    assert.deepEqual(failures(await verifyModelSignature({ signature: JSON.stringify(bundle), trust, model: singleFile })), ['keyHint:KEY_HINT_MISMATCH']);
  });

  it('refuses SLSA provenance, a bare envelope, shards and a manifest whose resources do not chain to its subject', async () => {
    const trust = await trustOperator();
    const keySigner = await createSigner({ kind: 'key', keyPem: operatorPem });
    const envelope = (await signStatement(serializeModelSigningStatement(manifestOf('model.pth', singleFile)), keySigner)).envelopeJsonl;
    assert.deepEqual(failures(await verifyModelSignature({ signature: envelope, trust, model: singleFile })), ['document:MALFORMED']);
    const edit = async (change: (s: Record<string, any>) => void): Promise<string[]> => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const statement = modelSigningStatement(manifestOf('saved_model', savedModel)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      change(statement);
      return failures(await verifyModelSignature({ signature: await signModelSigningPayload(Buffer.from(JSON.stringify(statement)), keySigner), trust, model: savedModel }));
    };
    assert.deepEqual(await edit((s) => (s.predicateType = 'https://slsa.dev/provenance/v1')), ['statement:PREDICATE_TYPE']);
    assert.deepEqual(await edit((s) => (s.predicate.serialization.method = 'shards')), ['manifest:UNSUPPORTED_SERIALIZATION']); // eslint-disable-line @typescript-eslint/no-unsafe-member-access
    assert.deepEqual(await edit((s) => (s.subject[0].digest.sha256 = hex('x'))), ['manifest:MANIFEST_INCONSISTENT']); // eslint-disable-line @typescript-eslint/no-unsafe-member-access
  });
});

describe('a keyless model signature', () => {
  let mock: SigstoreMock;
  before(async () => (mock = await startSigstoreMock()));
  after(stopSigstoreMock);

  it('carries the Fulcio certificate and the Rekor entry, and verifies for the identity', async () => {
    const signer = await createSigner({ kind: 'sigstore', fulcioURL: mock.fulcioURL, rekorURL: mock.rekorURL, identityToken: () => Promise.resolve(identityToken({ sub: 'trainer' })) });
    const signature = await signModelSigningPayload(serializeModelSigningStatement(manifestOf('saved_model', savedModel)), signer);
    const bundle = JSON.parse(signature) as { verificationMaterial: { certificate?: unknown; tlogEntries: Array<{ inclusionProof: { logIndex: string; hashes: unknown[] } }> } };
    assert.ok(bundle.verificationMaterial.certificate);
    // sigstore-python (model_signing verify sigstore) requires both, even at their default values.
    assert.equal(typeof bundle.verificationMaterial.tlogEntries[0]?.inclusionProof.logIndex, 'string');
    assert.ok(Array.isArray(bundle.verificationMaterial.tlogEntries[0]?.inclusionProof.hashes));
    const trust = await createSignatureVerifier({ kind: 'identity', certificateIdentity: 'trainer', oidcIssuer: MOCK_ISSUER, trustedRoot: mock.trustedRoot });
    const result = await verifyModelSignature({ signature, trust, model: savedModel });
    assert.ok(result.ok, JSON.stringify(result.checks));
    assert.equal(result.signer?.kind, 'certificate');
  });
});
