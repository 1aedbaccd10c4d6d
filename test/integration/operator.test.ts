// The operator end to end: training runs go through the real Tekton controller (Tekton creates
// the Pod, kube-scheduler places it on a fake GKE node, the test plays the train step, which
// writes the model and reports it), and the operator attests what Tekton recorded.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { digestLocalPath } from '../../src/digest/index.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cosignVerifyAttestation } from '../support/cosign.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { succeeded, tektonNamespace } from '../support/tekton-runs.ts';
import { finishTrainingRun, gsUri, modelOutput, outcomeOf, sha256, startTrainingRun, waitForTaskRun } from '../support/training-run.ts';

describe('the operator, running under its least-privilege identity', () => {
  const env = testEnv();
  const admin = env.kubeConfig('admin');
  const prefix = uniqueName('operator');
  const allowed = `gs://${env.bucket}/${prefix}/`;
  let keys: SigningKeys;
  let operator: OperatorProcess;

  before(async () => {
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
    operator = await startOperator(env, {
      allowedPrefixes: [allowed],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
      signer: { kind: 'key', keyPath: keys.privateKeyPath },
      builderId: 'https://slsa-ml.dev/operator/test',
      leaderElection: { enabled: true, namespace: 'slsa-ml-system', leaseName: 'slsa-ml-operator', leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 },
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

  async function download(uri: string, dir: string): Promise<string> {
    const path = join(dir, objectName(uri).split('/').pop() ?? 'object');
    await bucket().file(objectName(uri)).download({ destination: path });
    return path;
  }

  /** Events on the TaskRun: the operator's, and (Tekton reports too) everyone's. */
  async function events(ns: string, name: string): Promise<{ ours: string[]; all: string[] }> {
    const list = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` });
    const describe = (e: (typeof list.items)[number]): string => `${e.type ?? ''} ${e.reason ?? ''}`;
    return { ours: list.items.filter((e) => e.reportingComponent === 'slsa-ml.dev/operator').map(describe), all: list.items.map(describe) };
  }

  async function eventReasons(ns: string, name: string): Promise<string[]> {
    return (await events(ns, name)).ours.map((e) => e.split(' ')[1] ?? '');
  }

  async function attested(ns: string, name: string) {
    return waitForTaskRun(admin, ns, name, (t) => outcomeOf(t) !== undefined);
  }

  describe('when a training TaskRun that wrote a .pth model succeeds', () => {
    it('stores both provenance objects next to the model, cosign verifies them, and the TaskRun says so', async () => {
      const ns = await tektonNamespace(env, 'op-pth');
      const model = Buffer.from(`weights of ${ns}`);
      const object = `${prefix}/${ns}/v1/pytorch_model.pth`;
      const uri = gsUri(env, object);
      await finishTrainingRun(env, ns, 'train', { writes: { [object]: model }, results: [modelOutput(uri, sha256(model))] }, { gpu: true });

      const tr = await attested(ns, 'train');
      assert.equal(outcomeOf(tr), 'true', tr.metadata.annotations?.['slsa-ml.dev/reason']);
      assert.equal(tr.metadata.annotations?.['slsa-ml.dev/bundle'], `${uri}.sigstore.json`);
      assert.equal(tr.metadata.labels?.['slsa-ml.dev/provenance'], 'signed');
      assert.ok(!(tr.metadata as { finalizers?: string[] }).finalizers?.includes('slsa-ml.dev/provenance'), 'finalizer released');
      assert.ok((await eventReasons(ns, 'train')).includes('ProvenanceStored'));

      const dir = mkdtempSync(join(tmpdir(), 'op-pth-'));
      const modelPath = join(dir, 'pytorch_model.pth');
      writeFileSync(modelPath, model);
      const bundle = await download(`${uri}.sigstore.json`, dir);
      const envelope = await download(`${uri}.intoto.jsonl`, dir);
      const viaBundle = await cosignVerifyAttestation({ publicKeyPath: keys.publicKeyPath, bundlePath: bundle, artifact: { file: modelPath } });
      assert.ok(viaBundle.ok, viaBundle.output);
      const viaEnvelope = await cosignVerifyAttestation({ publicKeyPath: keys.publicKeyPath, envelopePath: envelope, artifact: { file: modelPath } });
      assert.ok(viaEnvelope.ok, viaEnvelope.output);
      // Both objects carry the same single signature.
      const bundleEnvelope = (JSON.parse(readFileSync(bundle, 'utf8')) as { dsseEnvelope: unknown }).dsseEnvelope;
      assert.deepEqual(JSON.parse(readFileSync(envelope, 'utf8')), bundleEnvelope);
      // What the operator saw of the node pool is in the provenance: the scheduler put the GPU Pod on the L4 pool.
      const statement = JSON.parse(Buffer.from((bundleEnvelope as { payload: string }).payload, 'base64').toString()) as {
        predicate: { buildDefinition: { internalParameters: { node?: { nodePool?: string }; accelerator?: unknown } }; runDetails: { metadata: { invocationId: string } } };
      };
      assert.equal(statement.predicate.runDetails.metadata.invocationId, tr.metadata.uid);
      assert.equal(statement.predicate.buildDefinition.internalParameters.node?.nodePool, 'l4-pool');
      assert.deepEqual(statement.predicate.buildDefinition.internalParameters.accelerator, { kind: 'gpu', type: 'nvidia-l4', count: 1 });
    });
  });

  describe('when the model is a SavedModel directory', () => {
    it('attests the directory root digest with siblings outside the prefix, and cosign verifies by digest', async () => {
      const ns = await tektonNamespace(env, 'op-savedmodel');
      const local = mkdtempSync(join(tmpdir(), 'savedmodel-'));
      const files: Record<string, string> = {
        'saved_model.pb': 'graph', 'variables/variables.index': 'index', 'variables/variables.data-00000-of-00001': 'data', 'assets/vocab.txt': 'a b c', 'fingerprint.pb': 'fp',
      };
      const writes: Record<string, string> = {};
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(dirname(join(local, name)), { recursive: true });
        writeFileSync(join(local, name), content);
        writes[`${prefix}/${ns}/saved_model/${name}`] = content;
      }
      const root = (await digestLocalPath(local)).sha256;
      const uri = `gs://${env.bucket}/${prefix}/${ns}/saved_model/`;
      await finishTrainingRun(env, ns, 'train', { writes, results: [modelOutput(uri, root)] });

      const tr = await attested(ns, 'train');
      assert.equal(outcomeOf(tr), 'true', tr.metadata.annotations?.['slsa-ml.dev/reason']);
      const bundleUri = `gs://${env.bucket}/${prefix}/${ns}/saved_model.sigstore.json`;
      assert.equal(tr.metadata.annotations?.['slsa-ml.dev/bundle'], bundleUri);
      const dir = mkdtempSync(join(tmpdir(), 'op-sm-'));
      const bundlePath = await download(bundleUri, dir);
      const result = await cosignVerifyAttestation({ publicKeyPath: keys.publicKeyPath, bundlePath, artifact: { sha256: root } });
      assert.ok(result.ok, result.output);
      // The subject names every file, so a rename that keeps the root digest is still caught.
      const payload = (JSON.parse(readFileSync(bundlePath, 'utf8')) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload;
      const subject = (JSON.parse(Buffer.from(payload, 'base64').toString()) as { subject: Array<{ annotations: Record<string, unknown> }> }).subject[0];
      assert.deepEqual((subject?.annotations['slsa-ml.dev/files'] as Array<{ path: string }>).map((f) => f.path),
        ['assets/vocab.txt', 'fingerprint.pb', 'saved_model.pb', 'variables/variables.data-00000-of-00001', 'variables/variables.index']);
      assert.ok(await exists(`gs://${env.bucket}/${prefix}/${ns}/saved_model.intoto.jsonl`));
    });
  });

  describe('when the input is bad, it fails at once with a reason and a Warning Event', () => {
    it('refuses a reported digest that differs from the stored model', async () => {
      const ns = await tektonNamespace(env, 'op-mismatch');
      const object = `${prefix}/${ns}/m.pth`;
      const uri = gsUri(env, object);
      await finishTrainingRun(env, ns, 'train', { writes: { [object]: 'real bytes' }, results: [modelOutput(uri, sha256('other bytes'))] });
      const tr = await attested(ns, 'train');
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(tr.metadata.annotations?.['slsa-ml.dev/reason'] ?? '', /^DIGEST_MISMATCH: .*m\.pth/);
      assert.equal(tr.metadata.labels?.['slsa-ml.dev/provenance'], 'failed');
      assert.equal(await exists(`${uri}.sigstore.json`), false);
      assert.ok((await eventReasons(ns, 'train')).includes('ProvenanceFailed'));
    });

    it('refuses an output outside the allowed storage prefixes', async () => {
      const ns = await tektonNamespace(env, 'op-prefix');
      const model = Buffer.from('elsewhere');
      const object = `not-allowed/${ns}/m.pth`;
      const uri = gsUri(env, object);
      await finishTrainingRun(env, ns, 'train', { writes: { [object]: model }, results: [modelOutput(uri, sha256(model))] });
      const tr = await attested(ns, 'train');
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(tr.metadata.annotations?.['slsa-ml.dev/reason'] ?? '', /^PREFIX_NOT_ALLOWED: /);
      assert.equal(await exists(`${uri}.sigstore.json`), false);
    });

    // A well-formed object result with a bad value passes through Tekton (tekton-results.test.ts).
    it('refuses a malformed type hint, naming the result', async () => {
      const ns = await tektonNamespace(env, 'op-malformed');
      await finishTrainingRun(env, ns, 'train', { results: [
        { name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: { uri: `${allowed}${ns}/m.pth`, digest: 'sha256:not-hex', isBuildArtifact: 'true' } },
      ] });
      const tr = await attested(ns, 'train');
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(tr.metadata.annotations?.['slsa-ml.dev/reason'] ?? '', /^MALFORMED_HINT: .*model_ARTIFACT_OUTPUTS/);
    });

    it('never overwrites provenance that another run already stored next to the model', async () => {
      const ns = await tektonNamespace(env, 'op-conflict');
      const model = Buffer.from('contested');
      const object = `${prefix}/${ns}/m.pth`;
      const uri = gsUri(env, object);
      const foreign = '{"not":"ours"}';
      await bucket().file(objectName(`${uri}.sigstore.json`)).save(foreign, { resumable: false });
      await finishTrainingRun(env, ns, 'train', { writes: { [object]: model }, results: [modelOutput(uri, sha256(model))] });
      const tr = await attested(ns, 'train');
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(tr.metadata.annotations?.['slsa-ml.dev/reason'] ?? '', /^PROVENANCE_CONFLICT: /);
      assert.equal((await bucket().file(objectName(`${uri}.sigstore.json`)).download())[0].toString(), foreign);
    });
  });

  describe('when a run reports outputs but none is a build artifact (a checkpoint-only or evaluation run)', () => {
    it('records a neutral "skipped" outcome: no failure label, no Warning, nothing written', async () => {
      const ns = await tektonNamespace(env, 'op-skipped');
      const model = Buffer.from('checkpoint');
      const object = `${prefix}/${ns}/checkpoint.pth`;
      const uri = gsUri(env, object);
      await finishTrainingRun(env, ns, 'eval', { writes: { [object]: model }, results: [
        { name: 'checkpoint_ARTIFACT_OUTPUTS', type: 'object', value: { uri, digest: `sha256:${sha256(model)}`, isBuildArtifact: 'false' } },
      ] });
      const tr = await attested(ns, 'eval');
      assert.equal(outcomeOf(tr), 'skipped');
      assert.equal(tr.metadata.labels?.['slsa-ml.dev/provenance'], 'skipped');
      assert.match(tr.metadata.annotations?.['slsa-ml.dev/reason'] ?? '', /^NO_BUILD_ARTIFACT: /);
      // Tekton records its own Events on the run (Started, Running, Succeeded); none is a Warning either.
      const { ours, all } = await events(ns, 'eval');
      assert.deepEqual(ours, ['Normal ProvenanceSkipped']);
      assert.deepEqual(all.filter((e) => e.startsWith('Warning')), []);
      assert.equal(await exists(`${uri}.sigstore.json`), false);
    });
  });

  describe('when the training TaskRun failed', () => {
    it('records nothing (failed runs are not attested by default) and releases its finalizer', async () => {
      const ns = await tektonNamespace(env, 'op-failed-run');
      const model = Buffer.from('partial');
      const object = `${prefix}/${ns}/m.pth`;
      const uri = gsUri(env, object);
      const api = admin.makeApiClient(CustomObjectsApi);
      // The train step writes and reports its model, then exits 1: Tekton fails the run.
      const run = await finishTrainingRun(env, ns, 'train', { writes: { [object]: model }, results: [modelOutput(uri, sha256(model))], exitCode: 1 });
      assert.equal(succeeded(run)?.status, 'False', JSON.stringify(succeeded(run)));
      await new Promise((r) => setTimeout(r, 2000));
      const tr = (await api.getNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, name: 'train' })) as { metadata: { annotations?: Record<string, string>; finalizers?: string[] } };
      assert.equal(tr.metadata.annotations?.['slsa-ml.dev/signed'], undefined);
      assert.ok(!tr.metadata.finalizers?.includes('slsa-ml.dev/provenance'));
      assert.equal(await exists(`${uri}.sigstore.json`), false);
    });
  });

  describe('when a TaskRun is deleted right after it finishes', () => {
    it('is still attested before it goes', async () => {
      const ns = await tektonNamespace(env, 'op-deleted');
      const api = admin.makeApiClient(CustomObjectsApi);
      const model = Buffer.from('short-lived');
      const object = `${prefix}/${ns}/m.pth`;
      const uri = gsUri(env, object);
      let finish = (): void => undefined;
      const hold = new Promise<void>((resolve) => { finish = resolve; });
      const run = await startTrainingRun(env, ns, 'train', { writes: { [object]: model }, results: [modelOutput(uri, sha256(model))] }, { hold });
      // The operator holds running TaskRuns whose Task declares a model output with its finalizer.
      await waitForTaskRun(admin, ns, 'train', (t) => ((t.metadata as { finalizers?: string[] }).finalizers ?? []).includes('slsa-ml.dev/provenance'));
      finish();
      // Deleted as soon as Tekton records it finished.
      await run.done;
      await api.deleteNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, name: 'train' });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const gone = await api.getNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, name: 'train' }).then(() => false, () => true);
        if (gone) break;
        assert.ok(Date.now() < deadline, 'the TaskRun is released once attested');
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(await exists(`${uri}.sigstore.json`));
      assert.ok(await exists(`${uri}.intoto.jsonl`));
    });
  });
});

describe('the operator signing with the key of a Tekton Chains signing-secrets Secret', () => {
  const env = testEnv();
  const admin = env.kubeConfig('admin');
  const prefix = uniqueName('operator-chains-key');
  const chainsSecret = join(import.meta.dirname, '..', 'fixtures', 'signing', 'cosign');

  it('reads the cosign-encrypted key and its password from the mounted directory, and cosign verifies with cosign.pub', async () => {
    await applyOperatorRbac(env);
    const operator = await startOperator(env, {
      allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
      signer: { kind: 'key', keyPath: chainsSecret },
      builderId: 'https://slsa-ml.dev/operator/test',
      leaderElection: { enabled: false },
    });
    try {
      await operator.ready();
      const ns = await tektonNamespace(env, 'op-chains-key');
      const model = Buffer.from(`weights of ${ns}`);
      const object = `${prefix}/${ns}/model.pth`;
      const uri = gsUri(env, object);
      await finishTrainingRun(env, ns, 'train', { writes: { [object]: model }, results: [modelOutput(uri, sha256(model))] });
      const tr = await waitForTaskRun(admin, ns, 'train', (t) => outcomeOf(t) !== undefined);
      assert.equal(outcomeOf(tr), 'true', tr.metadata.annotations?.['slsa-ml.dev/reason']);
      const dir = mkdtempSync(join(tmpdir(), 'op-chains-'));
      const modelPath = join(dir, 'model.pth');
      writeFileSync(modelPath, model);
      const bundlePath = join(dir, 'model.pth.sigstore.json');
      writeFileSync(bundlePath, (await env.storageClient().bucket(env.bucket).file(`${prefix}/${ns}/model.pth.sigstore.json`).download())[0]);
      const verdict = await cosignVerifyAttestation({ publicKeyPath: join(chainsSecret, 'cosign.pub'), bundlePath, artifact: { file: modelPath } });
      assert.ok(verdict.ok, verdict.output);
    } finally {
      assert.equal(await operator.stop('SIGTERM'), 0, operator.output());
    }
  });
});
