// The trust promise, attacked as a tenant would: someone who may create Tasks, TaskRuns and Pods
// in their own namespace (the `tenant` identity, bound there only) and whose training pod may
// write anything under its model prefix. The tenant applies the Task and creates the TaskRun; the
// real Tekton controller runs it, and the test plays the training step (what it writes, what it
// reports). Each attack must leave the run not signed, any planted object byte for byte as it
// was, nothing else written, and a reason that names the attack; the genuine run of the same
// shape is still signed and verifies with cosign and `slsa-ml verify`. One shape Tekton cannot
// produce keeps a hand-written status, saying so in its name.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { bindTenant, testEnv, uniqueName } from '../harness/index.ts';
import { cli, signRun } from '../support/cli.ts';
import { bindPolicyToNamespace, deniedBy } from '../support/admission.ts';
import { cosignVerifyAttestation } from '../support/cosign.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { createTaskRun, trainingTaskRun, type TaskRunObject } from '../support/tekton.ts';
import { tektonNamespace, type TektonRun } from '../support/tekton-runs.ts';
import {
  finishRunByHand, finishTrainingRun, modelOutput, outcomeOf, sha256, startTrainingRun, uploadModel, waitForTaskRun, type RunResult, type TrainingRunOptions, type TrainStep,
} from '../support/training-run.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const tenant = env.kubeConfig('tenant');
const prefix = uniqueName('trust');
const TASKRUNS = { group: 'tekton.dev', version: 'v1', plural: 'taskruns' } as const;
const LIMITS = { statementBytes: 64 * 1024, modelFiles: 5, modelBytes: 10_000 };

let keys: SigningKeys;
let operator: OperatorProcess;

const bucket = () => env.storageClient().bucket(env.bucket);
const objectName = (uri: string): string => uri.replace(`gs://${env.bucket}/`, '');
const modelUri = (ns: string, name: string): string => `gs://${env.bucket}/${prefix}/${ns}/${name}`;
const objectsUnder = async (ns: string): Promise<string[]> => (await bucket().getFiles({ prefix: `${prefix}/${ns}/` }))[0].map((f) => f.name.slice(`${prefix}/${ns}/`.length)).sort();
const contentOf = async (uri: string): Promise<string> => (await bucket().file(objectName(uri)).download())[0].toString();
const reasonOf = (tr: TaskRunObject | TektonRun): string => tr.metadata.annotations?.['slsa-ml.dev/reason'] ?? '';
const decided = (ns: string, name: string) => waitForTaskRun(admin, ns, name, (t) => outcomeOf(t) !== undefined && t.metadata.annotations?.['slsa-ml.dev/seal'] !== undefined);

/** A namespace the tenant may write in, and only that one (with the `default` ServiceAccount Tekton runs Pods as). */
async function tenantNamespace(hint: string): Promise<string> {
  const ns = await tektonNamespace(env, hint);
  await bindTenant(env, ns);
  return ns;
}

/** The tenant applies the Task and creates the TaskRun (any metadata it likes); Tekton runs it; the step does `step`. */
async function runAsTenant(ns: string, name: string, step: TrainStep, options: TrainingRunOptions = {}): Promise<TektonRun> {
  return finishTrainingRun(env, ns, name, step, { as: tenant, ...options });
}

/** The step writes `model` under the run's namespace prefix and reports it. */
function writesModel(ns: string, file: string, model: Buffer, more: readonly RunResult[] = []): TrainStep {
  const uri = modelUri(ns, file);
  return { writes: { [objectName(uri)]: model }, results: [modelOutput(uri, sha256(model)), ...more] };
}

/** The genuine run's provenance verifies with cosign (bundle and envelope) and with `slsa-ml verify`. */
async function assertGenuine(tr: TaskRunObject | TektonRun, uri: string, model: Buffer): Promise<Record<string, unknown>> {
  assert.equal(outcomeOf(tr), 'true', reasonOf(tr));
  assert.equal(tr.metadata.labels?.['slsa-ml.dev/provenance'], 'signed');
  assert.equal(tr.metadata.annotations?.['slsa-ml.dev/bundle'], `${uri}.sigstore.json`);
  const dir = mkdtempSync(join(tmpdir(), 'trust-'));
  const modelPath = join(dir, 'model');
  writeFileSync(modelPath, model);
  writeFileSync(join(dir, 'b.json'), await contentOf(`${uri}.sigstore.json`));
  writeFileSync(join(dir, 'e.jsonl'), await contentOf(`${uri}.intoto.jsonl`));
  for (const via of [{ bundlePath: join(dir, 'b.json') }, { envelopePath: join(dir, 'e.jsonl') }]) {
    const verdict = await cosignVerifyAttestation({ publicKeyPath: keys.publicKeyPath, ...via, artifact: { file: modelPath } });
    assert.ok(verdict.ok, verdict.output);
  }
  const run = await cli(['verify', uri, '--key', keys.publicKeyPath, '--gcs-endpoint', env.gcsEndpoint, '--builder-id', 'https://slsa-ml.dev/operator/test']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const bundle = JSON.parse(await contentOf(`${uri}.sigstore.json`)) as { dsseEnvelope: { payload: string } };
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as { predicate: { runDetails: { metadata: { invocationId: string } } } };
  assert.equal(statement.predicate.runDetails.metadata.invocationId, tr.metadata.uid);
  return statement;
}

/** The slsa-ml.dev/ keys on the TaskRun: after an attack, only the operator's sealed outcome. */
function ourKeys(tr: TaskRunObject | TektonRun): string[] {
  return [...Object.keys(tr.metadata.annotations ?? {}), ...Object.keys(tr.metadata.labels ?? {}).map((k) => `label:${k}`)]
    .filter((k) => k.includes('slsa-ml.dev/')).sort();
}

describe('a hostile tenant against the operator', () => {
  before(async () => {
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
    operator = await startOperator(env, {
      allowedPrefixes: [`gs://${env.bucket}/${prefix}/{namespace}/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
      signer: { kind: 'key', keyPath: keys.privateKeyPath },
      builderId: 'https://slsa-ml.dev/operator/test',
      clockSkewSeconds: 2,
      limits: LIMITS,
      leaderElection: { enabled: false },
    });
    await operator.ready();
  });

  after(async () => {
    const code = await operator.stop('SIGTERM');
    await stopAllOperators();
    assert.equal(code, 0, `graceful shutdown; output:\n${operator.output()}`);
  });

  describe('attack 1: the outcome is set before the run', () => {
    it('admission refuses slsa-ml.dev/ keys from anyone but the operator, on TaskRuns and on what Tekton copies onto them', async () => {
      const ns = await tenantNamespace('trust-vap');
      await applyReservedKeysPolicy(ns);
      const forged = { annotations: { 'slsa-ml.dev/signed': 'true' }, labels: { 'slsa-ml.dev/provenance': 'signed' } };
      const objects = KubernetesObjectApi.makeApiClient(tenant);
      const task = { apiVersion: 'tekton.dev/v1', kind: 'Task', metadata: { name: 'train-model', namespace: ns, labels: { 'slsa-ml.dev/provenance': 'signed' } }, spec: { steps: [{ name: 'train', image: 'python:3.11-slim', script: 'true' }] } };
      const pipelineRun = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { name: 'p', namespace: ns, annotations: { 'slsa-ml.dev/signed': 'true' } }, spec: { pipelineRef: { name: 'x' } } };
      for (const object of [task, pipelineRun]) {
        assert.equal(await deniedBy(objects.create(object as KubernetesObject), RESERVED_KEYS), 'Forbidden', `${object.kind} with slsa-ml.dev/ metadata`);
      }
      const tr = trainingTaskRun(ns, 'preset');
      tr.metadata = { ...tr.metadata, ...forged };
      assert.equal(await deniedBy(createTaskRun(tenant, tr), RESERVED_KEYS), 'Forbidden', 'TaskRun created with the outcome');
      await createTaskRun(tenant, trainingTaskRun(ns, 'later'));
      const patch = { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'later', namespace: ns, labels: { 'slsa-ml.dev/provenance': 'signed' } } } as KubernetesObject;
      assert.equal(await deniedBy(objects.patch(patch, undefined, undefined, 'tenant', true, PatchStrategy.ServerSideApply), RESERVED_KEYS), 'Forbidden', 'label added later');
      // Tekton itself (admin here) copying such keys onto a TaskRun is refused the same way.
      assert.equal(await deniedBy(KubernetesObjectApi.makeApiClient(admin).patch(patch, undefined, undefined, 'tekton-pipelines-controller', true, PatchStrategy.ServerSideApply), RESERVED_KEYS), 'Forbidden', 'propagation');
      // Unrelated metadata is untouched by the policy.
      await objects.patch({ ...patch, metadata: { ...patch.metadata, labels: { team: 'vision' } } }, undefined, undefined, 'tenant', true, PatchStrategy.ServerSideApply);
    });

    it('without admission, a pre-set "signed" decides nothing: the run is attested and the forged values replaced', async () => {
      const ns = await tenantNamespace('trust-preset');
      const model = Buffer.from(`weights ${randomUUID()}`);
      const uri = modelUri(ns, 'model.pth');
      const forged = {
        annotations: { 'slsa-ml.dev/signed': 'true', 'slsa-ml.dev/bundle': `gs://${env.bucket}/elsewhere.sigstore.json`, 'slsa-ml.dev/seal': 'v1.forged', 'slsa-ml.dev/provenance': 'gs://old-style/x.sigstore.json' },
        labels: { 'slsa-ml.dev/provenance': 'signed' },
      };
      await runAsTenant(ns, 'train', writesModel(ns, 'model.pth', model), { metadata: forged });
      const tr = await waitForTaskRun(admin, ns, 'train', (t) => t.metadata.annotations?.['slsa-ml.dev/bundle'] === `${uri}.sigstore.json`);
      await assertGenuine(tr, uri, model);
      assert.deepEqual(ourKeys(tr), ['label:slsa-ml.dev/provenance', 'slsa-ml.dev/bundle', 'slsa-ml.dev/seal', 'slsa-ml.dev/signed']);
    });

    it('a forged "signed" on a run with nothing to attest is overruled: failed FOREIGN_OUTCOME, forged keys gone', async () => {
      const ns = await tenantNamespace('trust-preset-empty');
      await runAsTenant(ns, 'eval', { results: [{ name: 'accuracy', type: 'string', value: '0.93' }] }, { metadata: { annotations: { 'slsa-ml.dev/signed': 'true' }, labels: { 'slsa-ml.dev/provenance': 'signed' } } });
      const tr = await waitForTaskRun(admin, ns, 'eval', (t) => t.metadata.labels?.['slsa-ml.dev/provenance'] === 'failed');
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(reasonOf(tr), /^FOREIGN_OUTCOME: /);
      assert.deepEqual(ourKeys(tr), ['label:slsa-ml.dev/provenance', 'slsa-ml.dev/reason', 'slsa-ml.dev/seal', 'slsa-ml.dev/signed']);
      assert.deepEqual(await objectsUnder(ns), []);
    });

    it('values copied from a Task (as Tekton propagates Task metadata) or a seal copied from another run are ignored too', async () => {
      const ns = await tenantNamespace('trust-propagated');
      // A genuine, sealed outcome of another run...
      const first = Buffer.from(`first ${randomUUID()}`);
      await runAsTenant(ns, 'first', writesModel(ns, 'first.pth', first));
      const sealed = await decided(ns, 'first');
      assert.equal(outcomeOf(sealed), 'true', reasonOf(sealed));
      // ...put on the next run's Task, whose metadata Tekton itself copies onto the TaskRun.
      const copied = {
        annotations: Object.fromEntries(Object.entries(sealed.metadata.annotations ?? {}).filter(([k]) => k.startsWith('slsa-ml.dev/'))),
        labels: { 'slsa-ml.dev/provenance': 'signed' },
      };
      const second = Buffer.from(`second ${randomUUID()}`);
      const secondUri = modelUri(ns, 'second.pth');
      await runAsTenant(ns, 'second', {
        ...writesModel(ns, 'second.pth', second),
        // While the step runs, the copied seal is on the TaskRun, put there by Tekton.
        during: async () => { await waitForTaskRun(admin, ns, 'second', (t) => t.metadata.annotations?.['slsa-ml.dev/seal'] === copied.annotations['slsa-ml.dev/seal'], 10_000); },
      }, { taskMetadata: copied });
      const tr = await waitForTaskRun(admin, ns, 'second', (t) => t.metadata.annotations?.['slsa-ml.dev/bundle'] === `${secondUri}.sigstore.json`);
      await assertGenuine(tr, secondUri, second);
    });
  });

  describe('attack 2: the training pod plants the provenance', () => {
    it('refuses a planted bundle signed with the pod\'s own key for this run and digest, and leaves it untouched', async () => {
      const ns = await tenantNamespace('trust-planted');
      const model = Buffer.from(`weights ${randomUUID()}`);
      const uri = modelUri(ns, 'model.pth');
      // The pod knows the run's UID (its Pod's owner) and its own model's digest; it signs with a key of its own.
      const podKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      let planted = '';
      await runAsTenant(ns, 'train', {
        ...writesModel(ns, 'model.pth', model),
        during: async (pod) => {
          const uid = pod.pod.metadata?.ownerReferences?.find((o) => o.kind === 'TaskRun')?.uid ?? '';
          planted = (await signRun({ modelUri: uri, uid, sourceUrl: 'https://github.com/attacker/anything' }, { kind: 'file', sha256: sha256(model), fileCount: 1, totalBytes: model.length }, { privatePem: podKey })).bundleJson;
          await uploadModel(env, objectName(`${uri}.sigstore.json`), Buffer.from(planted));
        },
      });
      const done = await decided(ns, 'train');
      assert.equal(outcomeOf(done), 'failed');
      assert.match(reasonOf(done), /^PROVENANCE_CONFLICT: .*model\.pth\.sigstore\.json already exists and is not this run's provenance from this operator \(signature check failed: WRONG_KEY/);
      assert.equal(await contentOf(`${uri}.sigstore.json`), planted);
      assert.deepEqual(await objectsUnder(ns), ['model.pth', 'model.pth.sigstore.json']);
      // The planted file never verifies with the operator's key.
      const check = await cli(['verify', uri, '--key', keys.publicKeyPath, '--gcs-endpoint', env.gcsEndpoint]);
      assert.notEqual(check.code, 0);
      // The genuine run of the same shape.
      const genuine = Buffer.from(`weights ${randomUUID()}`);
      await runAsTenant(ns, 'genuine', writesModel(ns, 'genuine.pth', genuine));
      await assertGenuine(await decided(ns, 'genuine'), modelUri(ns, 'genuine.pth'), genuine);
    });
  });

  describe('attack 3: a run claims another namespace\'s model', () => {
    it('refuses a model outside the run\'s own namespace prefix, and the owner\'s run is still signed', async () => {
      const [a, b] = [await tenantNamespace('trust-ns-a'), await tenantNamespace('trust-ns-b')];
      const model = Buffer.from(`b's weights ${randomUUID()}`);
      const uri = modelUri(b, 'model.pth');
      // b's run writes its model and keeps running while a's run claims it.
      let finishOwn = (): void => undefined;
      const own = await startTrainingRun(env, b, 'own', writesModel(b, 'model.pth', model), { as: tenant, hold: new Promise((resolve) => { finishOwn = resolve; }) });
      await own.holding;
      await runAsTenant(a, 'steal', { results: [modelOutput(uri, sha256(model))] });
      const stolen = await decided(a, 'steal');
      assert.equal(outcomeOf(stolen), 'failed');
      assert.match(reasonOf(stolen), new RegExp(`^PREFIX_NOT_ALLOWED: .*outside the allowed prefixes for namespace ${a}`));
      assert.deepEqual(await objectsUnder(b), ['model.pth']);
      finishOwn();
      await own.done;
      await assertGenuine(await decided(b, 'own'), uri, model);
    });

    it('refuses an object that existed before the run started', async () => {
      const ns = await tenantNamespace('trust-old');
      const model = Buffer.from(`old weights ${randomUUID()}`);
      const uri = await uploadModel(env, objectName(modelUri(ns, 'old.pth')), model);
      // Longer than the configured clock allowance (2 s), even after Tekton records the run's
      // start, which it does after this, truncated to the second.
      await sleep(4000);
      const run = await runAsTenant(ns, 'late', { results: [modelOutput(uri, sha256(model))] });
      const created = Date.parse((await bucket().file(objectName(uri)).getMetadata())[0].timeCreated ?? '');
      assert.ok(Date.parse(String(run.status?.startTime)) - created > 2000, `the object is older than the run by more than the allowance: ${String(run.status?.startTime)}`);
      const tr = await decided(ns, 'late');
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(reasonOf(tr), /^MODEL_PREDATES_RUN: .*old\.pth was created at .* before this TaskRun started/);
      assert.deepEqual(await objectsUnder(ns), ['old.pth']);
    });
  });

  describe('attack 4: half-written provenance', () => {
    it('refuses a planted envelope before writing the bundle, so nothing verifiable sits next to a failed run', async () => {
      const ns = await tenantNamespace('trust-half');
      const model = Buffer.from(`weights ${randomUUID()}`);
      const uri = modelUri(ns, 'model.pth');
      const planted = '{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MEUCIQ=="}]}\n';
      const step = writesModel(ns, 'model.pth', model);
      await runAsTenant(ns, 'train', { ...step, writes: { ...step.writes, [objectName(`${uri}.intoto.jsonl`)]: planted } });
      const tr = await decided(ns, 'train');
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(reasonOf(tr), /^PROVENANCE_CONFLICT: .*model\.pth\.intoto\.jsonl already exists/);
      assert.equal(await contentOf(`${uri}.intoto.jsonl`), planted);
      assert.deepEqual(await objectsUnder(ns), ['model.pth', 'model.pth.intoto.jsonl']);
    });
  });

  describe('attack 5: a look-alike Pod', () => {
    // Tekton takes a Pod that is already there under its Pod's name and copies that Pod's results
    // (pkg/reconciler/taskrun createPod, on AlreadyExists): a run whose Pod it does not control is
    // refused, through real Tekton, in operator-pod-ownership.test.ts.
    it('with the Pod Tekton created, the node pool it ran on is attested', async () => {
      const ns = await tenantNamespace('trust-pod-owned');
      const owned = Buffer.from(`weights ${randomUUID()}`);
      await runAsTenant(ns, 'owned', writesModel(ns, 'owned.pth', owned), { gpu: true });
      const real = await assertGenuine(await decided(ns, 'owned'), modelUri(ns, 'owned.pth'), owned);
      const internal = (real as { predicate: { buildDefinition: { internalParameters: { node?: Record<string, string>; accelerator?: unknown } } } }).predicate.buildDefinition.internalParameters;
      assert.equal(internal.node?.nodePool, 'l4-pool');
      assert.deepEqual(internal.accelerator, { kind: 'gpu', type: 'nvidia-l4', count: 1 });
    });
  });

  describe('attack 7: models too large for provenance', () => {
    it('refuses a directory model with more objects than limits.modelFiles before anything is written', async () => {
      const ns = await tenantNamespace('trust-files');
      const shards = Array.from({ length: LIMITS.modelFiles + 1 }, (_, i): [string, string] => [objectName(modelUri(ns, `saved_model/variables/shard-${i}`)), `s${i}`]);
      await runAsTenant(ns, 'train', { writes: Object.fromEntries(shards), results: [{ name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: { uri: modelUri(ns, 'saved_model/'), isBuildArtifact: 'true' } }] });
      const tr = await decided(ns, 'train');
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(reasonOf(tr), /^MODEL_TOO_MANY_FILES: .*more than 5 objects \(limits\.modelFiles\)/);
      assert.equal((await objectsUnder(ns)).filter((n) => !n.startsWith('saved_model/')).length, 0);
    });

    it('refuses a model over limits.modelBytes, and a statement over limits.statementBytes', async () => {
      const ns = await tenantNamespace('trust-bytes');
      const big = Buffer.alloc(LIMITS.modelBytes + 1, 7);
      await runAsTenant(ns, 'big', writesModel(ns, 'big.pth', big));
      const bigRun = await decided(ns, 'big');
      assert.match(reasonOf(bigRun), /^MODEL_TOO_LARGE: /);
      // The run's spec, params included, is what the tenant controlled: a long enough param outgrows the statement limit.
      const model = Buffer.from(`weights ${randomUUID()}`);
      await runAsTenant(ns, 'chatty', writesModel(ns, 'model.pth', model), { params: { notes: 'x'.repeat(LIMITS.statementBytes) } });
      const chatty = await decided(ns, 'chatty');
      assert.equal(outcomeOf(chatty), 'failed');
      assert.match(reasonOf(chatty), /^STATEMENT_TOO_LARGE: .*over limits\.statementBytes \(65536\)/);
      assert.deepEqual(await objectsUnder(ns), ['big.pth', 'model.pth']);
    });

    // Tekton reads results from termination messages, 4096 bytes at most (tekton-results.test.ts):
    // a result this long reaches a TaskRun only through another controller's status (or
    // Tekton's sidecar-logs results with a raised max-result-size), so it is written by hand.
    it('refuses a statement over limits.statementBytes from a result that long (hand-written status: a 64 KiB result)', async () => {
      const ns = await tenantNamespace('trust-bytes-result');
      const model = Buffer.from(`weights ${randomUUID()}`);
      const uri = await uploadModel(env, objectName(modelUri(ns, 'model.pth')), model);
      // Results the tenant controls become byproducts: enough of them outgrow the statement limit.
      await finishRunByHand(env, ns, 'chatty', [modelOutput(uri, sha256(model)), { name: 'log', type: 'string', value: 'x'.repeat(LIMITS.statementBytes) }], { as: tenant });
      const chatty = await decided(ns, 'chatty');
      assert.equal(outcomeOf(chatty), 'failed');
      assert.match(reasonOf(chatty), /^STATEMENT_TOO_LARGE: .*over limits\.statementBytes \(65536\)/);
      assert.deepEqual(await objectsUnder(ns), ['model.pth']);
    });
  });
});

/** The reserved-keys policy from manifests/base, bound to one namespace (a cluster-wide binding would block the other tests' attacks). */
async function applyReservedKeysPolicy(ns: string): Promise<void> {
  const probe = trainingTaskRun(ns, 'probe');
  probe.metadata.annotations = { 'slsa-ml.dev/signed': 'true' };
  await bindPolicyToNamespace(admin, 'reserved-keys-policy.yaml', ns, {
    attempt: () => createTaskRun(tenant, probe),
    undo: () => admin.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: 'probe' }),
    message: RESERVED_KEYS,
  });
}

const RESERVED_KEYS = /slsa-ml\.dev\/ are written only by the slsa-ml operator/;

