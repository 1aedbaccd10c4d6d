// The real OpenSSF model_signing 1.1 CLI (the verifier venv) judges the <model>.sig we write next
// to every model: written by the operator (key and Cloud KMS signers) and by `slsa-ml attest`
// (key, and keyless with the Sigstore stand-in), file models and SavedModel directories, downloaded
// from fake GCS. It passes for the model as signed and fails after a byte flip, a renamed file or
// an added file — and `slsa-ml verify` says the same every time.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { X509Certificate } from '@sigstore/core';

import { digestLocalPath } from '../../src/digest/index.ts';
import { manifestOf, serializeModelSigningStatement, signModelSigningPayload } from '../../src/model-signing/index.ts';
import { createSigner } from '../../src/signing/index.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli, taskRunFor, writeKeyPair, type KeyFiles } from '../support/cli.ts';
import { startKmsStandin, type KmsStandin } from '../support/kms-standin.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { identityToken, MOCK_ISSUER, startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';
import { clientTrustConfig, modelSigningVerify, type ModelSigningTrust } from '../support/signing-verifiers.ts';
import { tektonNamespace } from '../support/tekton-runs.ts';
import { finishTrainingRun, modelOutput, outcomeOf, uploadModel, waitForTaskRun } from '../support/training-run.ts';

const env = testEnv();
const prefix = uniqueName('model-signing');
const bucket = () => env.storageClient().bucket(env.bucket);
const cliEnv = { SLSA_ML_GCS_ENDPOINT: env.gcsEndpoint, GOOGLE_CLOUD_PROJECT: 'slsa-ml-test' };
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-model-signing-'));
});
after(async () => {
  await stopAllOperators();
  await rm(scratch, { recursive: true, force: true });
});

const SAVED_MODEL: Record<string, string> = {
  'saved_model.pb': 'graph bytes',
  'fingerprint.pb': 'fp',
  'variables/variables.index': 'index bytes',
  'variables/variables.data-00000-of-00001': 'the weights, '.repeat(500),
  'assets/vocab.txt': 'the\nquick\nbrown\n',
};

/** The objects of a model (`name` a file, or with `files` a SavedModel directory) and its URI. */
function modelObjects(under: string, name: string, files?: Record<string, string>): { uri: string; objects: Record<string, string> } {
  if (!files) return { uri: `gs://${env.bucket}/${under}/${name}`, objects: { [`${under}/${name}`]: `weights of ${under}/${name}` } };
  return { uri: `gs://${env.bucket}/${under}/${name}/`, objects: Object.fromEntries(Object.entries(files).map(([path, data]) => [`${under}/${name}/${path}`, data])) };
}

/** A model in fake GCS: `name` is a file, or with `files` a SavedModel directory. Returns its URI. */
async function upload(under: string, name: string, files?: Record<string, string>): Promise<string> {
  const { uri, objects } = modelObjects(under, name, files);
  for (const [object, data] of Object.entries(objects)) await uploadModel(env, object, Buffer.from(data));
  return uri;
}

/** The digest the operator must measure: of a local copy written from the same contents. */
async function localDigest(uri: string, objects: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'expected-'));
  const root = objectName(uri).replace(/\/$/, '');
  for (const [object, data] of Object.entries(objects)) {
    const local = join(dir, 'model', object.slice(root.length));
    await mkdir(dirname(local), { recursive: true });
    await writeFile(local, data);
  }
  return (await digestLocalPath(join(dir, 'model'))).sha256;
}

const objectName = (uri: string): string => uri.replace(`gs://${env.bucket}/`, '');

/** Downloads the model and everything next to it (provenance, .sig) into a fresh folder; returns the model's local path. */
async function download(modelUri: string): Promise<string> {
  const base = objectName(modelUri).replace(/\/$/, '');
  const parent = base.slice(0, base.lastIndexOf('/') + 1);
  const dir = await mkdtemp(join(scratch, 'download-'));
  const [files] = await bucket().getFiles({ prefix: base });
  for (const file of files) {
    const local = join(dir, file.name.slice(parent.length));
    await mkdir(dirname(local), { recursive: true });
    await file.download({ destination: local });
  }
  return join(dir, base.slice(parent.length));
}

interface Judges {
  /** How model_signing is told whom to trust. */
  readonly modelSigning: ModelSigningTrust;
  /** The same, as slsa-ml verify flags. */
  readonly slsaMl: readonly string[];
}

/** Both verdicts on a local model whose .sig and provenance lie beside it. */
async function verdicts(modelPath: string, judges: Judges, signature = `${modelPath}.sig`): Promise<{ modelSigning: boolean; ours: boolean; output: string }> {
  const theirs = await modelSigningVerify(modelPath, signature, judges.modelSigning);
  const run = await cli(['verify', modelPath, ...judges.slsaMl, '--model-signature', signature, '--require-model-signature', '--json']);
  const ours = (JSON.parse(run.stdout) as { modelSignature: { verified: boolean } | null }).modelSignature?.verified ?? false;
  return { modelSigning: theirs.ok, ours, output: `model_signing: ${theirs.output}\nslsa-ml: ${run.stdout}` };
}

async function assertBoth(modelPath: string, judges: Judges, expected: boolean, what: string, signature?: string): Promise<void> {
  const v = await verdicts(modelPath, judges, signature);
  assert.equal(v.modelSigning, expected, `model_signing on ${what}:\n${v.output}`);
  assert.equal(v.ours, expected, `slsa-ml verify on ${what}:\n${v.output}`);
}

/** A fresh copy of a downloaded model with its siblings, to change. */
async function copyOf(modelPath: string): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'copy-'));
  const source = dirname(modelPath);
  await cp(source, dir, { recursive: true });
  return join(dir, modelPath.slice(source.length + 1));
}

async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  await writeFile(path, bytes);
}

/** Passes as signed; fails after a byte flip, a renamed file, an added file; both tools agree each time. */
async function judgeDirectory(modelPath: string, judges: Judges): Promise<void> {
  await assertBoth(modelPath, judges, true, 'the SavedModel as signed');
  const flipped = await copyOf(modelPath);
  await flipByte(join(flipped, 'variables', 'variables.data-00000-of-00001'));
  await assertBoth(flipped, judges, false, 'a byte flip');
  const renamed = await copyOf(modelPath);
  await rename(join(renamed, 'variables', 'variables.index'), join(renamed, 'variables', 'variables.idx'));
  await assertBoth(renamed, judges, false, 'a renamed file');
  const added = await copyOf(modelPath);
  await writeFile(join(added, 'assets', 'extra.txt'), 'added after signing');
  await assertBoth(added, judges, false, 'an added file');
}

/**
 * A file model: passes as signed; fails after a byte flip or an appended byte. Renaming the file
 * itself changes nothing for either tool: model_signing's name is informative, its one resource
 * is the file "." relative to itself.
 */
async function judgeFile(modelPath: string, judges: Judges): Promise<void> {
  await assertBoth(modelPath, judges, true, 'the file as signed');
  const flipped = await copyOf(modelPath);
  await flipByte(flipped);
  await assertBoth(flipped, judges, false, 'a byte flip');
  const appended = await copyOf(modelPath);
  await writeFile(appended, Buffer.concat([await readFile(appended), Buffer.from('!')]));
  await assertBoth(appended, judges, false, 'an appended byte');
  const renamedDir = await copyOf(modelPath);
  const renamed = join(dirname(renamedDir), 'renamed.bin');
  await rename(renamedDir, renamed);
  await assertBoth(renamed, judges, true, 'the file under another name', `${renamedDir}.sig`);
}

const keyJudges = (publicKeyPath: string): Judges => ({ modelSigning: { kind: 'key', publicKeyPath }, slsaMl: ['--key', publicKeyPath] });

async function sigstoreBundleCertificate(signaturePath: string): Promise<X509Certificate> {
  const bundle = JSON.parse(await readFile(signaturePath, 'utf8')) as { verificationMaterial: { certificate: { rawBytes: string } } };
  return X509Certificate.parse(Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'));
}

describe('what the operator writes', () => {
  const admin = env.kubeConfig('admin');

  /** Runs one operator for `signer` over its own namespace; returns the namespace and a stop function. */
  async function operatorFor(signer: Record<string, unknown>, seal: Record<string, string> = {}): Promise<{ ns: string; operator: OperatorProcess }> {
    const ns = await tektonNamespace(env, 'oms');
    const operator = await startOperator(env, {
      namespaces: [ns],
      allowedPrefixes: [`gs://${env.bucket}/${prefix}/{namespace}/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
      signer,
      seal,
      builderId: 'https://slsa-ml.dev/operator/test',
      leaderElection: { enabled: false },
    });
    await operator.ready();
    return { ns, operator };
  }

  /** A TaskRun through Tekton whose step writes a model and reports it; waits until it is signed; returns the model URI. */
  async function trained(ns: string, run: string, files?: Record<string, string>): Promise<string> {
    const { uri, objects } = modelObjects(`${prefix}/${ns}/${run}`, files ? 'saved_model' : 'model.pth', files);
    await finishTrainingRun(env, ns, run, { writes: objects, results: [modelOutput(uri, await localDigest(uri, objects))] });
    const tr = await waitForTaskRun(admin, ns, run, (t) => outcomeOf(t) !== undefined);
    assert.equal(outcomeOf(tr), 'true', tr.metadata.annotations?.['slsa-ml.dev/reason']);
    return uri;
  }

  /** An operator signing with a fresh local key, in a namespace of its own. */
  async function keySignedOperator(): Promise<{ keys: SigningKeys; ns: string; operator: OperatorProcess }> {
    await applyOperatorRbac(env);
    const keys = generateSigningKeys();
    return { keys, ...(await operatorFor({ kind: 'key', keyPath: keys.privateKeyPath })) };
  }

  describe('signing with a key', () => {
    let keys: SigningKeys;
    let ns: string;
    let operator: OperatorProcess;
    before(async () => {
      ({ keys, ns, operator } = await keySignedOperator());
    });
    after(async () => {
      await operator?.stop();
    });

    it('a file model: model_signing verify key passes, and fails when the bytes change; slsa-ml verify agrees', async () => {
      const uri = await trained(ns, 'train-file');
      const verified = await cli(['verify', uri, '--key', keys.publicKeyPath, '--require-model-signature', '--json'], { env: cliEnv });
      assert.equal(verified.code, 0, verified.stdout);
      await judgeFile(await download(uri), keyJudges(keys.publicKeyPath));
    });

    it('a SavedModel: the .sig is a sibling outside the prefix; model_signing verify key passes, and fails after a flip, a rename or an added file; slsa-ml verify agrees', async () => {
      const uri = await trained(ns, 'train-dir', SAVED_MODEL);
      const [sig] = await bucket().file(`${objectName(uri).replace(/\/$/, '')}.sig`).exists();
      assert.ok(sig, 'saved_model.sig next to the prefix');
      await judgeDirectory(await download(uri), keyJudges(keys.publicKeyPath));
    });
  });

  describe('a .sig the training pod planted before the operator signs', () => {
    let keys: SigningKeys;
    let ns: string;
    let operator: OperatorProcess;
    before(async () => {
      ({ keys, ns, operator } = await keySignedOperator());
    });
    after(async () => {
      await operator?.stop();
    });

    it('fails the run with PROVENANCE_CONFLICT, writes nothing, and leaves the object as it was', async () => {
      const { uri, objects } = modelObjects(`${prefix}/${ns}/planted`, 'model.pth');
      const local = join(await mkdtemp(join(scratch, 'planted-')), 'model.pth');
      await writeFile(local, Object.values(objects)[0] ?? '');
      // A valid model_signing signature of exactly this model, by the tenant's own key.
      const tenant = await writeKeyPair(scratch, uniqueName('tenant'));
      const manifest = manifestOf('model.pth', await digestLocalPath(local));
      const planted = await signModelSigningPayload(serializeModelSigningStatement(manifest), await createSigner({ kind: 'key', keyPem: tenant.privatePem }));
      await writeFile(`${local}.sig`, planted);
      assert.ok((await modelSigningVerify(local, `${local}.sig`, { kind: 'key', publicKeyPath: tenant.publicPath })).ok, 'the tenant key verifies it');
      assert.equal((await modelSigningVerify(local, `${local}.sig`, { kind: 'key', publicKeyPath: keys.publicKeyPath })).ok, false, 'the operator key does not');

      // The training step writes the model and the .sig next to it, then reports the model.
      await finishTrainingRun(env, ns, 'train', { writes: { ...objects, [`${objectName(uri)}.sig`]: planted }, results: [modelOutput(uri, (await digestLocalPath(local)).sha256)] });
      const tr = await waitForTaskRun(admin, ns, 'train', (t) => outcomeOf(t) !== undefined);
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(tr.metadata.annotations?.['slsa-ml.dev/reason'] ?? '', /^PROVENANCE_CONFLICT: .*model\.pth\.sig already exists/);
      const [names] = await bucket().getFiles({ prefix: objectName(uri) });
      assert.deepEqual(names.map((f) => f.name.split('/').pop()).sort(), ['model.pth', 'model.pth.sig']);
      assert.equal((await bucket().file(`${objectName(uri)}.sig`).download())[0].toString(), planted);
    });
  });

  describe('signing with a Cloud KMS key', () => {
    let kms: KmsStandin;
    let ns: string;
    let operator: OperatorProcess;
    let publicKeyPath: string;
    before(async () => {
      await applyOperatorRbac(env);
      kms = await startKmsStandin();
      publicKeyPath = join(scratch, 'kms.pub');
      await writeFile(publicKeyPath, kms.publicKeyPem);
      // Without a local key to derive it from, the outcome seal needs its own key.
      const sealPath = join(scratch, 'seal.key');
      await writeFile(sealPath, `${randomBytes(48).toString('base64')}\n`, { mode: 0o600 });
      ({ ns, operator } = await operatorFor({ kind: 'kms', keyName: kms.keyName, apiEndpoint: kms.endpoint }, { keyPath: sealPath }));
    });
    after(async () => {
      await kms?.close();
      await operator?.stop();
    });

    it('a file model and a SavedModel: model_signing verify key with the KMS public key passes, and fails when they change; slsa-ml verify --kms agrees', async () => {
      const file = await trained(ns, 'train-file');
      const verified = await cli(['verify', file, '--kms', kms.keyName, '--kms-endpoint', kms.endpoint, '--require-model-signature', '--json'], { env: cliEnv });
      assert.equal(verified.code, 0, verified.stdout);
      const judges: Judges = { modelSigning: { kind: 'key', publicKeyPath }, slsaMl: ['--kms', kms.keyName, '--kms-endpoint', kms.endpoint] };
      await judgeFile(await download(file), judges);
      await judgeDirectory(await download(await trained(ns, 'train-dir', SAVED_MODEL)), judges);
    });
  });
});

describe('what slsa-ml attest writes', () => {
  const allowed = `gs://${env.bucket}/${prefix}/attest/`;

  async function attest(modelUri: string, ...signer: string[]): Promise<void> {
    const taskRun = join(scratch, `${uniqueName('taskrun')}.json`);
    await writeFile(taskRun, JSON.stringify(taskRunFor({ modelUri })));
    const run = await cli(['attest', '--taskrun', taskRun, '--allowed-prefix', allowed, ...signer], { env: cliEnv });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /signature gs:\/\/.*\.sig\n/);
  }

  describe('with a key', () => {
    let key: KeyFiles;
    before(async () => (key = await writeKeyPair(scratch, 'attest')));

    it('a file model and a SavedModel: model_signing verify key passes, and fails when they change; slsa-ml verify agrees', async () => {
      const file = await upload(`${prefix}/attest/${uniqueName('run')}`, 'model.safetensors');
      await attest(file, '--key', key.privatePath);
      await judgeFile(await download(file), keyJudges(key.publicPath));
      const dir = await upload(`${prefix}/attest/${uniqueName('run')}`, 'saved_model', SAVED_MODEL);
      await attest(dir, '--key', key.privatePath);
      await judgeDirectory(await download(dir), keyJudges(key.publicPath));
    });
  });

  describe('keyless, with the Sigstore stand-in', () => {
    const SUBJECT = 'trainer@slsa-ml.test';
    let mock: SigstoreMock;
    let judges: Judges;
    let tokenPath: string;
    let rootPath: string;
    before(async () => {
      mock = await startSigstoreMock();
      tokenPath = join(scratch, 'oidc-token');
      await writeFile(tokenPath, identityToken({ sub: SUBJECT }));
      rootPath = join(scratch, 'trusted_root.json');
      await writeFile(rootPath, JSON.stringify(mock.trustedRoot));
      const trustConfigPath = join(scratch, 'trust_config.json');
      await writeFile(trustConfigPath, JSON.stringify(clientTrustConfig(mock.trustedRoot, mock)));
      judges = {
        modelSigning: { kind: 'sigstore', identity: SUBJECT, issuer: MOCK_ISSUER, trustConfigPath },
        slsaMl: ['--certificate-identity', SUBJECT, '--certificate-oidc-issuer', MOCK_ISSUER, '--trusted-root', rootPath],
      };
    });
    after(stopSigstoreMock);

    const keyless = (): string[] => ['--fulcio-url', mock.fulcioURL, '--rekor-url', mock.rekorURL, '--identity-token', tokenPath];

    it('a file model and a SavedModel: model_signing verify sigstore --trust_config passes, and fails when they change; slsa-ml verify agrees', async () => {
      const file = await upload(`${prefix}/attest/${uniqueName('run')}`, 'model.pth');
      await attest(file, ...keyless());
      await judgeFile(await download(file), judges);
      const dir = await upload(`${prefix}/attest/${uniqueName('run')}`, 'saved_model', SAVED_MODEL);
      await attest(dir, ...keyless());
      await judgeDirectory(await download(dir), judges);
    });

    it('model_signing verify sigstore refuses another identity, as slsa-ml verify does', async () => {
      const file = await upload(`${prefix}/attest/${uniqueName('run')}`, 'model.pth');
      await attest(file, ...keyless());
      const other: Judges = {
        modelSigning: { ...(judges.modelSigning as ModelSigningTrust & { kind: 'sigstore' }), identity: 'someone@else.test' },
        slsaMl: ['--certificate-identity', 'someone@else.test', '--certificate-oidc-issuer', MOCK_ISSUER, '--trusted-root', rootPath],
      };
      await assertBoth(await download(file), other, false, 'another identity');
    });

    it('model_signing verify certificate cannot read a Sigstore keyless bundle at all (it reads only x509CertificateChain; Sigstore v0.3 bundles, its own sign sigstore output included, carry one certificate)', async () => {
      const file = await upload(`${prefix}/attest/${uniqueName('run')}`, 'model.pth');
      await attest(file, ...keyless());
      const local = await download(file);
      const certificate = await sigstoreBundleCertificate(`${local}.sig`);
      assert.equal(certificate.subjectAltName, SUBJECT);
      const chainPath = join(scratch, 'fulcio-root.pem');
      const root = (mock.trustedRoot as { certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }> }).certificateAuthorities[0]?.certChain.certificates[0]?.rawBytes ?? '';
      await writeFile(chainPath, `-----BEGIN CERTIFICATE-----\n${root.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`);
      const verdict = await modelSigningVerify(local, `${local}.sig`, { kind: 'certificate', chainPath });
      assert.equal(verdict.ok, false);
      assert.match(verdict.output, /'NoneType' object has no attribute 'certificates'/);
    });
  });
});
