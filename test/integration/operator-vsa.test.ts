// Verification summaries end to end: the real operator, configured with two policies, attests
// training runs that go through the real Tekton controller and writes one signed SLSA VSA per
// policy beside each model in fake-gcs-server; `slsa-ml verify --vsa` and cosign accept the
// operator's, and every summary that must not be trusted — another key's, one copied beside
// another model, one for another policy, a FAILED one, none at all — is refused by name.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { summaryLocation } from '../../src/layout/index.ts';
import { parsePolicy, type PolicyDocument } from '../../src/policy/index.ts';
import { createSigner } from '../../src/signing/index.ts';
import { buildSummary, signSummary } from '../../src/vsa/index.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli, failedChecks } from '../support/cli.ts';
import { cosignVerifyAttestation } from '../support/cosign.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { tektonNamespace } from '../support/tekton-runs.ts';
import { finishTrainingRun, gsUri, modelOutput, outcomeOf, sha256, uploadModel, waitForTaskRun, type RunResult } from '../support/training-run.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const prefix = uniqueName('operator-vsa');
const BUILDER = 'https://slsa-ml.dev/operator/test';
const VERIFIER = `${BUILDER}#verifier`;
const VSA_TYPE = 'https://slsa.dev/verification_summary/v1';
const SERVING = 'name: https://acme.example/policies/serving\nbuilder-id: https://slsa-ml.dev/operator/test\ndeny: [pkg:pypi/torch@<2.6.0]\nmax-age: 1d\n';
// The run reports torch: this policy fails it.
const NO_TORCH = 'name: https://acme.example/policies/no-torch\ndeny: [pkg:pypi/torch]\n';

describe('verification summaries written by the operator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'operator-vsa-'));
  const servingPath = join(dir, 'serving.yaml');
  const noTorchPath = join(dir, 'no-torch.yaml');
  const serving: PolicyDocument = parsePolicy(SERVING, servingPath);
  const noTorch: PolicyDocument = parsePolicy(NO_TORCH, noTorchPath);
  const gcs = ['--gcs-endpoint', env.gcsEndpoint];
  let keys: SigningKeys;
  let other: SigningKeys;
  let operator: OperatorProcess;

  before(async () => {
    writeFileSync(servingPath, SERVING);
    writeFileSync(noTorchPath, NO_TORCH);
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
    other = generateSigningKeys();
    operator = await startOperator(env, {
      allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
      signer: { kind: 'key', keyPath: keys.privateKeyPath },
      builderId: BUILDER,
      leaderElection: { enabled: false },
      verificationSummaries: { policyPaths: [servingPath, noTorchPath] },
    });
    await operator.ready();
  });

  after(async () => {
    const code = await operator.stop('SIGTERM');
    await stopAllOperators();
    assert.equal(code, 0, `graceful shutdown; output:\n${operator.output()}`);
  });

  const bucket = () => env.storageClient().bucket(env.bucket);
  const objectName = (uri: string): string => uri.replace(`gs://${env.bucket}/`, '');
  const exists = async (uri: string): Promise<boolean> => (await bucket().file(objectName(uri)).exists())[0];
  const readObject = async (uri: string): Promise<Buffer> => (await bucket().file(objectName(uri)).download())[0];
  const frameworks: RunResult = { name: 'FRAMEWORKS', type: 'array', value: ['pkg:pypi/torch@2.8.0', 'pkg:pypi/numpy@2.3.4'] };

  interface Trained { readonly ns: string; readonly uri: string; readonly bytes: Buffer }

  function newModel(ns: string): Trained {
    return { ns, uri: gsUri(env, `${prefix}/${ns}/v1/pytorch_model.pth`), bytes: Buffer.from(`weights of ${ns}`) };
  }

  /**
   * A training run through Tekton whose step writes the model (and `writes`) and reports it with
   * its frameworks; resolves with the TaskRun's annotations once the operator recorded its outcome.
   */
  async function train(model: Trained, writes: Record<string, Buffer | string> = {}): Promise<Record<string, string>> {
    await finishTrainingRun(env, model.ns, 'train', { writes: { [objectName(model.uri)]: model.bytes, ...writes }, results: [modelOutput(model.uri, sha256(model.bytes)), frameworks] });
    return (await waitForTaskRun(admin, model.ns, 'train', (t) => outcomeOf(t) !== undefined)).metadata.annotations ?? {};
  }

  // The real clock: the summaries were written just now.
  const vsa = (uri: string, policyPath: string, ...flags: string[]) => cli(['verify', uri, '--vsa', '--policy', policyPath, '--key', keys.publicKeyPath, ...gcs, ...flags], { now: new Date() });

  /** A summary the operator never made: PASSED for `about`, signed by `key`. */
  async function foreignSummary(about: Pick<Trained, 'uri' | 'bytes'>, key: SigningKeys, policy: PolicyDocument): Promise<string> {
    const statement = buildSummary({
      verifierId: VERIFIER, verifierVersion: { 'slsa-ml': '0.2.0' }, timeVerified: new Date(), modelUri: about.uri, sha256: sha256(about.bytes),
      policy: { uri: policy.name ?? '', digest: policy.digest }, provenance: { uri: `${about.uri}.sigstore.json`, sha256: sha256('whatever') }, passed: true, levels: ['SLSA_BUILD_LEVEL_3'],
    });
    return signSummary(statement, await createSigner({ kind: 'key', keyPem: readFileSync(key.privateKeyPath, 'utf8') }));
  }

  describe('when a training run meets one policy and fails the other', () => {
    let model: Trained;
    let annotations: Record<string, string>;
    before(async () => {
      model = newModel(await tektonNamespace(env, 'vsa-run'));
      annotations = await train(model);
    });

    it('stores the provenance and, beside it, one summary per policy named by the policy digest', async () => {
      assert.equal(annotations['slsa-ml.dev/signed'], 'true', annotations['slsa-ml.dev/reason']);
      assert.equal(annotations['slsa-ml.dev/bundle'], `${model.uri}.sigstore.json`);
      for (const policy of [serving, noTorch]) {
        const uri = summaryLocation(model.uri, policy.digest);
        assert.match(uri, new RegExp(`/pytorch_model\\.pth\\.vsa-${policy.digest.slice(0, 16)}\\.sigstore\\.json$`));
        assert.ok(await exists(uri), uri);
      }
    });

    it('slsa-ml verify --vsa passes with the operator\'s public key, measuring the model or (--no-download) not', async () => {
      const measured = await vsa(model.uri, servingPath, '--verifier-id', VERIFIER, '--max-age', '1h');
      assert.equal(measured.code, 0, measured.stdout + measured.stderr);
      assert.match(measured.stdout, /PASS {2}verificationResult {2}PASSED SLSA_BUILD_LEVEL_3\n/);
      assert.match(measured.stdout, /measured from the model's bytes now\nVERIFIED\n$/);
      const admission = await vsa(model.uri, servingPath, '--no-download', '--json');
      assert.equal(admission.code, 0, admission.stdout);
      const verdict = JSON.parse(admission.stdout) as { modelRead: boolean; verifierId: string; inputAttestations: Array<{ uri: string; sha256: string }> };
      assert.equal(verdict.modelRead, false);
      assert.equal(verdict.verifierId, VERIFIER);
      assert.deepEqual(verdict.inputAttestations, [{ uri: `${model.uri}.sigstore.json`, sha256: sha256(await readObject(`${model.uri}.sigstore.json`)) }]);
    });

    it('cosign accepts the summary as a verification_summary/v1 attestation of the model file', async () => {
      const local = mkdtempSync(join(tmpdir(), 'vsa-cosign-'));
      const modelPath = join(local, 'pytorch_model.pth');
      writeFileSync(modelPath, model.bytes);
      const bundlePath = join(local, 'pytorch_model.pth.vsa.sigstore.json');
      writeFileSync(bundlePath, await readObject(summaryLocation(model.uri, serving.digest)));
      const accepted = await cosignVerifyAttestation({ publicKeyPath: keys.publicKeyPath, bundlePath, artifact: { file: modelPath }, type: VSA_TYPE });
      assert.ok(accepted.ok, accepted.output);
      const otherBytes = join(local, 'other.pth');
      writeFileSync(otherBytes, 'other weights');
      assert.equal((await cosignVerifyAttestation({ publicKeyPath: keys.publicKeyPath, bundlePath, artifact: { file: otherBytes }, type: VSA_TYPE })).ok, false, 'not for other bytes');
      assert.equal((await cosignVerifyAttestation({ publicKeyPath: other.publicKeyPath, bundlePath, artifact: { file: modelPath }, type: VSA_TYPE })).ok, false, 'not with another key');
    });

    it('the policy the run fails has a FAILED summary, which verify --vsa refuses', async () => {
      const run = await vsa(model.uri, noTorchPath, '--json');
      assert.equal(run.code, 1, run.stdout);
      assert.deepEqual(failedChecks(run.stdout), { verificationResult: 'SUMMARY_FAILED' });
      assert.deepEqual((JSON.parse(run.stdout) as { verifiedLevels: string[] }).verifiedLevels, []);
    });

    it('refuses a summary signed by another key, one copied beside another model, one for another policy, and none at all', async () => {
      const ns = await tektonNamespace(env, 'vsa-plain');
      const bytes = Buffer.from(`a model nobody attested ${ns}`);
      const elsewhere = await uploadModel(env, `${prefix}/${ns}/pytorch_model.pth`, bytes);
      const missing = await vsa(elsewhere, servingPath, '--json');
      assert.equal(missing.code, 1);
      assert.deepEqual(failedChecks(missing.stdout), { summary: 'SUMMARY_NOT_FOUND' });
      // Our genuine summary, copied beside another model.
      await bucket().file(objectName(summaryLocation(elsewhere, serving.digest))).save(await readObject(summaryLocation(model.uri, serving.digest)));
      assert.deepEqual(failedChecks((await vsa(elsewhere, servingPath, '--json')).stdout), { resourceUri: 'RESOURCE_MISMATCH' });
      // A summary for this model with every field right, forged with another key.
      await bucket().file(objectName(summaryLocation(elsewhere, noTorch.digest))).save(await foreignSummary({ uri: elsewhere, bytes }, other, noTorch));
      assert.deepEqual(failedChecks((await vsa(elsewhere, noTorchPath, '--json')).stdout), { signature: 'WRONG_KEY' });
      // The operator's own (PASSED) summary of the trained model, for the other policy.
      const forOther = await vsa(model.uri, noTorchPath, '--json', '--vsa-file', summaryLocation(model.uri, serving.digest));
      assert.deepEqual(failedChecks(forOther.stdout), { policy: 'POLICY_MISMATCH' });
    });
  });

  describe('when the training pod plants a summary beside its own model', () => {
    it('leaves it untouched, keeps the run signed with a warning, and verify --vsa refuses the planted one', async () => {
      const model = newModel(await tektonNamespace(env, 'vsa-planted'));
      const { ns, uri } = model;
      const planted = await foreignSummary(model, other, serving);
      const annotations = await train(model, { [objectName(summaryLocation(uri, serving.digest))]: planted });
      assert.equal(annotations['slsa-ml.dev/signed'], 'true', annotations['slsa-ml.dev/reason']);
      assert.equal((await readObject(summaryLocation(uri, serving.digest))).toString(), planted);
      const events = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=train' });
      const stored = events.items.find((e) => e.reason === 'ProvenanceStored');
      assert.equal(stored?.type, 'Warning');
      assert.match(stored?.message ?? '', /\.vsa-[0-9a-f]{16}\.sigstore\.json holds an object this operator did not write .*WRONG_KEY/);
      assert.deepEqual(failedChecks((await vsa(uri, servingPath, '--json')).stdout), { signature: 'WRONG_KEY' });
      // The other policy's name was free: the operator's own summary is there (FAILED: the run reports torch).
      assert.deepEqual(failedChecks((await vsa(uri, noTorchPath, '--json')).stdout), { verificationResult: 'SUMMARY_FAILED' });
    });
  });
});
