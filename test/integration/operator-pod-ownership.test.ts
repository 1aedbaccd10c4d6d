// Whose Pod a TaskRun's results come from, through the real Tekton v1.9 controller. Tekton names a
// TaskRun's Pod `<taskrun>-pod`; when that name is taken it uses the Pod that is there (found by
// name, with Tekton's managed-by label) and copies that Pod's results into the TaskRun's status
// without checking who controls it (pkg/reconciler/taskrun createPod, on AlreadyExists). Two ways
// a run gets another Pod's results: a TaskRun deleted with `--cascade=orphan` whose still-running
// Pod, orphaned by the garbage collector, is adopted by a TaskRun re-created under the same name;
// and a look-alike Pod the tenant created under that name before the TaskRun (for a PipelineRun's
// child too: `<pipelinerun>-<task>-pod`). Each run is refused (POD_NOT_OWNED) and nothing is
// written. No kube-controller-manager runs here, so the test does the garbage collector's two
// steps of an orphaning delete itself.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { podOutcome } from '../../hack/env/pod-outcome.ts';
import type { PodRunner } from '../../hack/env/pod-runner.ts';
import { bindTenant, testEnv, uniqueName } from '../harness/index.ts';
import { bindPolicyToNamespace, deniedBy } from '../support/admission.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess } from '../support/operator-process.ts';
import { SOURCE_REPO, TASKS } from '../support/tekton-pipelines.ts';
import { applyObjects, createRun, getRun, isDone, succeeded, supplyOutcomes, tektonNamespace, waitForRun, type Manifest, type RunRef, type TektonRun } from '../support/tekton-runs.ts';
import { modelOutput, outcomeOf, sha256, uploadModel } from '../support/training-run.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const tenant = env.kubeConfig('tenant');
const prefix = uniqueName('pod-ownership');
const TASKRUNS = { group: 'tekton.dev', version: 'v1', plural: 'taskruns' } as const;
/** The operator's default allowance (clockSkewSeconds): a model this much older than the run still counts as the run's. */
const CLOCK_SKEW_MS = 30_000;

let operator: OperatorProcess;

const core = () => admin.makeApiClient(CoreV1Api);
const objectName = (uri: string): string => uri.replace(`gs://${env.bucket}/`, '');
const modelUri = (ns: string, name: string): string => `gs://${env.bucket}/${prefix}/${ns}/${name}`;
const objectsUnder = async (ns: string): Promise<string[]> => (await env.storageClient().bucket(env.bucket).getFiles({ prefix: `${prefix}/${ns}/` }))[0].map((f) => f.name.slice(`${prefix}/${ns}/`.length)).sort();
const reasonOf = (run: TektonRun): string => run.metadata.annotations?.['slsa-ml.dev/reason'] ?? '';
const decided = (run: TektonRun): boolean => outcomeOf(run) !== undefined && run.metadata.annotations?.['slsa-ml.dev/seal'] !== undefined;
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const ref = (ns: string) => ({ kind: 'TaskRun', namespace: ns, name: 'train' } as const);

/** One step, `train`, that reports the model it wrote. */
const TASK: Manifest = {
  apiVersion: 'tekton.dev/v1', kind: 'Task', metadata: { name: 'train' },
  spec: {
    results: [{ name: 'model_ARTIFACT_OUTPUTS', type: 'object', properties: { uri: { type: 'string' }, digest: { type: 'string' }, isBuildArtifact: { type: 'string' } } }],
    steps: [{ name: 'train', image: 'python:3.11-slim', script: 'exec python -m training' }],
  },
};
const TASKRUN: Manifest = { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'train' }, spec: { taskRef: { name: 'train' } } };
/** fetch (the catalog-style fetch-source Task) → train. */
const PIPELINE: Manifest = {
  apiVersion: 'tekton.dev/v1', kind: 'Pipeline', metadata: { name: 'train-pipeline' },
  spec: { tasks: [
    { name: 'fetch', taskRef: { name: 'fetch-source' }, params: [{ name: 'url', value: SOURCE_REPO }] },
    { name: 'train', runAfter: ['fetch'], taskRef: { name: 'train' } },
  ] },
};
const FORGED_COMMIT = 'badc0de000000000000000000000000000000001';

async function tenantNamespace(hint: string): Promise<string> {
  const ns = await tektonNamespace(env, hint);
  await bindTenant(env, ns);
  await applyObjects(tenant, ns, [TASK]);
  return ns;
}

async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const podIn = async (ns: string, name: string, done: (pod: V1Pod) => boolean): Promise<V1Pod> =>
  waitFor(`pod ${ns}/${name}`, async () => {
    const pod = await core().readNamespacedPod({ namespace: ns, name }).catch(() => undefined);
    return pod && done(pod) ? pod : undefined;
  });

const gone = async (ns: string): Promise<void> => {
  await waitFor(`TaskRun ${ns}/train to be gone`, () => getRun(admin, 'TaskRun', ns, 'train').then(() => undefined, (err: unknown) => (err instanceof ApiException && err.code === 404 ? true : undefined)));
};

/**
 * What kube-controller-manager's garbage collector does for a `propagationPolicy: Orphan` delete
 * (garbagecollector.go orphanDependents, then removing the `orphan` finalizer): the owner
 * reference to the deleted TaskRun is taken off its Pod, then the TaskRun is let go. JSON patches
 * with a `test` of what they remove, so a concurrent writer (the operator releasing its own
 * finalizer) makes one fail and be retried rather than be undone.
 */
async function collectAsOrphaning(ns: string, pod: string, ownerUid: string): Promise<void> {
  const live = await core().readNamespacedPod({ namespace: ns, name: pod });
  const i = (live.metadata?.ownerReferences ?? []).findIndex((o) => o.uid === ownerUid);
  assert.ok(i >= 0, `pod ${pod} is owned by ${ownerUid}`);
  await core().patchNamespacedPod({ namespace: ns, name: pod, body: [{ op: 'test', path: `/metadata/ownerReferences/${i}/uid`, value: ownerUid }, { op: 'remove', path: `/metadata/ownerReferences/${i}` }] }, JSON_PATCH);
  await waitFor('the orphan finalizer to be removed', async () => {
    const run = await getRun(admin, 'TaskRun', ns, 'train').catch((err: unknown) => { if (err instanceof ApiException && err.code === 404) return undefined; throw err; });
    const at = run?.metadata.finalizers?.indexOf('orphan') ?? -1;
    if (at < 0) return true;
    const body = [{ op: 'test', path: `/metadata/finalizers/${at}`, value: 'orphan' }, { op: 'remove', path: `/metadata/finalizers/${at}` }];
    return admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: 'train', body }, JSON_PATCH).then(() => true, () => undefined);
  });
}

/**
 * A TaskRun `train` whose step is still running when the tenant deletes it with
 * `--cascade=orphan`; once it is gone, the orphaned Pod's step writes and reports `model` and the
 * Pod finishes. The runner keeps playing the namespace's Pods; the caller stops it.
 */
async function orphanedPod(ns: string, uri: string, model: Buffer): Promise<{ runner: PodRunner; firstUid: string; podUid: string }> {
  let step = (): void => undefined;
  const stepMay = new Promise<void>((resolve) => { step = resolve; });
  const runner = supplyOutcomes(env, ns, async (pod) => {
    if (pod.name !== 'train-pod') return undefined;
    await stepMay;
    await uploadModel(env, objectName(uri), model);
    return { train: { results: { model_ARTIFACT_OUTPUTS: modelOutput(uri, sha256(model)).value } } };
  });
  try {
    const first = await createRun(tenant, ns, TASKRUN);
    const firstUid = first.metadata.uid ?? '';
    // Running, and held by the operator (its Task declares a model).
    await waitForRun(admin, ref(ns), (r) => succeeded(r)?.reason === 'Running' && (r.metadata.finalizers ?? []).includes('slsa-ml.dev/provenance'), { runner });
    const running = await podIn(ns, 'train-pod', (p) => p.status?.phase === 'Running');
    await tenant.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: 'train', propagationPolicy: 'Orphan' });
    await collectAsOrphaning(ns, 'train-pod', firstUid);
    await gone(ns);
    step();
    const finished = await podIn(ns, 'train-pod', (p) => p.status?.phase === 'Succeeded');
    assert.equal(finished.metadata?.uid, running.metadata?.uid);
    assert.deepEqual(finished.metadata?.ownerReferences ?? [], [], 'the garbage collector left the Pod without an owner');
    assert.equal(finished.metadata?.labels?.['tekton.dev/taskRunUID'], firstUid);
    return { runner, firstUid, podUid: finished.metadata?.uid ?? '' };
  } catch (err) {
    await runner.stop();
    throw err;
  }
}

/** The run's outcome is failed with `reason` (POD_NOT_OWNED), and nothing was written next to its model. */
async function assertRefused(run: RunRef, reason: RegExp): Promise<void> {
  const decidedRun = await waitForRun(admin, run, decided, { timeoutMs: 30_000 });
  assert.equal(outcomeOf(decidedRun), 'failed', reasonOf(decidedRun));
  assert.equal(decidedRun.metadata.labels?.['slsa-ml.dev/provenance'], 'failed');
  assert.match(reasonOf(decidedRun), reason);
  assert.equal(decidedRun.metadata.annotations?.['slsa-ml.dev/bundle'], undefined);
  assert.deepEqual(await objectsUnder(run.namespace), ['model.pth'], 'nothing is written next to the model');
}

/** The TaskRun `train` is refused for the Pod Tekton adopted, though its model is within the clock allowance (so it was signed before). */
async function assertTrainRefused(ns: string, run: TektonRun, controller: RegExp): Promise<void> {
  await assertRefused(ref(ns), new RegExp(`^POD_NOT_OWNED: pod train-pod of TaskRun train \\(status\\.podName\\) is not controlled by that TaskRun \\(uid ${run.metadata.uid}\\): ${controller.source}`));
  const created = Date.parse((await env.storageClient().bucket(env.bucket).file(objectName(modelUri(ns, 'model.pth'))).getMetadata())[0].timeCreated ?? '');
  assert.ok(created > Date.parse(String(run.status?.startTime)) - CLOCK_SKEW_MS, `the model (${new Date(created).toISOString()}) is not older than the run (${String(run.status?.startTime)}) by the allowance`);
}

/**
 * A Pod the tenant creates under `name` before Tekton would, already finished: the managed-by
 * label Tekton's Pod informer filters on, one step container reporting `results` (as the kubelet
 * records it: pod-outcome.ts, kwok).
 */
async function lookalikePod(ns: string, name: string, step: string, results: Record<string, unknown>): Promise<V1Pod> {
  const pod: V1Pod = {
    metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'tekton-pipelines' } },
    spec: { restartPolicy: 'Never', containers: [{ name: `step-${step}`, image: 'python:3.11-slim', args: ['-results', Object.keys(results).join(',')] }] },
  };
  const outcome = podOutcome(pod, { [step]: { results } }, new Date());
  pod.metadata = { ...pod.metadata, annotations: { 'kwok.slsa-ml.dev/outcome': JSON.stringify(outcome) } };
  await tenant.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: ns, body: pod });
  return podIn(ns, name, (p) => p.status?.phase === 'Succeeded');
}

describe('a run whose Pod is not its own', () => {
  before(async () => {
    await applyOperatorRbac(env);
    const keys = generateSigningKeys();
    operator = await startOperator(env, {
      allowedPrefixes: [`gs://${env.bucket}/${prefix}/{namespace}/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
      signer: { kind: 'key', keyPath: keys.privateKeyPath },
      builderId: 'https://slsa-ml.dev/operator/test',
      leaderElection: { enabled: false },
    });
    await operator.ready();
  });

  after(async () => {
    const code = await operator.stop('SIGTERM');
    await stopAllOperators();
    assert.equal(code, 0, `graceful shutdown; output:\n${operator.output()}`);
  });

  it('Tekton adopts the orphaned Pod of a TaskRun deleted with --cascade=orphan for a TaskRun re-created under its name; that run is refused POD_NOT_OWNED and nothing is written', async () => {
    const ns = await tenantNamespace('pod-orphan');
    const uri = modelUri(ns, 'model.pth');
    const model = Buffer.from(`weights ${randomUUID()}`);
    const { runner, firstUid, podUid } = await orphanedPod(ns, uri, model);
    try {
      const second = await createRun(tenant, ns, TASKRUN);
      const run = await waitForRun(admin, ref(ns), isDone, { runner });
      // What Tekton did: the new TaskRun's status is the orphan's, results and all.
      assert.notEqual(second.metadata.uid, firstUid);
      assert.equal(succeeded(run)?.status, 'True', JSON.stringify(run.status?.conditions));
      assert.equal(run.status?.podName, 'train-pod');
      assert.deepEqual(run.status?.results, [{ name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: modelOutput(uri, sha256(model)).value }]);
      const adopted = await core().readNamespacedPod({ namespace: ns, name: 'train-pod' });
      assert.equal(adopted.metadata?.uid, podUid, 'Tekton created no Pod of its own');
      assert.deepEqual(adopted.metadata?.ownerReferences ?? [], [], 'and did not take the Pod over');

      await assertTrainRefused(ns, run, new RegExp(`it has no controller \\(an orphan labelled for TaskRun uid ${firstUid}, or a Pod created by hand\\); Tekton copied that Pod's results into the run's status, so none of them is attested$`));
      assert.deepEqual(runner.errors, []);
    } finally {
      await runner.stop();
    }
  });

  it('Tekton adopts a look-alike Pod the tenant created first under the TaskRun\'s Pod name; that run is refused POD_NOT_OWNED and nothing is written', async () => {
    const ns = await tenantNamespace('pod-lookalike');
    const model = Buffer.from(`weights ${randomUUID()}`);
    const uri = await uploadModel(env, objectName(modelUri(ns, 'model.pth')), model);
    const planted = await lookalikePod(ns, 'train-pod', 'train', { model_ARTIFACT_OUTPUTS: modelOutput(uri, sha256(model)).value });

    const created = await createRun(tenant, ns, TASKRUN);
    const run = await waitForRun(admin, ref(ns), isDone);
    assert.equal(succeeded(run)?.status, 'True', JSON.stringify(run.status?.conditions));
    assert.equal(run.status?.podName, 'train-pod');
    assert.equal((await core().readNamespacedPod({ namespace: ns, name: 'train-pod' })).metadata?.uid, planted.metadata?.uid, 'Tekton took the tenant\'s Pod');
    assert.equal(run.metadata.uid, created.metadata.uid);

    await assertTrainRefused(ns, run, /it has no controller \(an orphan, or a Pod created by hand\)/);
  });

  it('with taskrun-pods-policy.yaml a tenant cannot give its own Pod a controller reference to the TaskRun (the race the POD_NOT_OWNED check cannot see), while Tekton still creates the run\'s Pod', async () => {
    const ns = await tenantNamespace('pod-policy');
    const message = /only the Tekton controller makes a Pod belong to a TaskRun/;
    const owned = (name: string, uid: string): V1Pod => ({
      metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'tekton-pipelines' }, ownerReferences: [{ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: 'train', uid, controller: true, blockOwnerDeletion: true }] },
      spec: { restartPolicy: 'Never', containers: [{ name: 'step-train', image: 'python:3.11-slim' }] },
    });
    await bindPolicyToNamespace(admin, 'taskrun-pods-policy.yaml', ns, {
      attempt: () => tenant.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: ns, body: owned('probe-pod', randomUUID()) }),
      undo: () => core().deleteNamespacedPod({ namespace: ns, name: 'probe-pod' }),
      message,
    });
    // A pending TaskRun gets no Pod from Tekton yet: the tenant is first, as in a slow resolution.
    const created = await createRun(tenant, ns, { ...TASKRUN, spec: { ...(TASKRUN.spec as object), status: 'TaskRunPending' } });
    assert.equal(await deniedBy(tenant.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: ns, body: owned('train-pod', created.metadata.uid ?? '') }), message), 'Forbidden');

    const uri = modelUri(ns, 'model.pth');
    const model = Buffer.from(`weights ${randomUUID()}`);
    const runner = supplyOutcomes(env, ns, async () => {
      await uploadModel(env, objectName(uri), model);
      return { train: { results: { model_ARTIFACT_OUTPUTS: modelOutput(uri, sha256(model)).value } } };
    });
    try {
      await admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: 'train', body: [{ op: 'remove', path: '/spec/status' }] }, JSON_PATCH);
      const done = await waitForRun(admin, ref(ns), (r) => isDone(r) && decided(r), { runner, timeoutMs: 90_000 });
      assert.equal(outcomeOf(done), 'true', reasonOf(done));
      const pod = await core().readNamespacedPod({ namespace: ns, name: 'train-pod' });
      assert.equal(pod.metadata?.ownerReferences?.find((o) => o.controller)?.uid, created.metadata.uid, 'Tekton made the run\'s own Pod');
    } finally {
      await runner.stop();
    }
  });

  it('in a PipelineRun, a child TaskRun whose Pod Tekton took from the tenant (a forged source commit) refuses the whole PipelineRun, naming the task; nothing is written', async () => {
    const ns = await tenantNamespace('pod-pipeline');
    const uri = modelUri(ns, 'model.pth');
    const model = Buffer.from(`weights ${randomUUID()}`);
    await applyObjects(tenant, ns, [TASKS[0] as Manifest, PIPELINE]);
    // The fetch task's Pod is the tenant's, reporting a commit it never checked out.
    const planted = await lookalikePod(ns, 'pr-fetch-pod', 'clone', { 'CHAINS-GIT_URL': SOURCE_REPO, 'CHAINS-GIT_COMMIT': FORGED_COMMIT });
    // The train task runs in the Pod Tekton creates for it, and writes the model.
    const runner = supplyOutcomes(env, ns, async (pod) => {
      if (pod.pipelineTask !== 'train') return undefined;
      await uploadModel(env, objectName(uri), model);
      return { train: { results: { model_ARTIFACT_OUTPUTS: modelOutput(uri, sha256(model)).value } } };
    });
    try {
      await createRun(tenant, ns, { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { name: 'pr' }, spec: { pipelineRef: { name: 'train-pipeline' } } });
      const pr = await waitForRun(admin, { kind: 'PipelineRun', namespace: ns, name: 'pr' }, isDone, { runner, timeoutMs: 90_000 });
      assert.equal(succeeded(pr)?.status, 'True', JSON.stringify(pr.status?.conditions));
      const fetch = await getRun(admin, 'TaskRun', ns, 'pr-fetch');
      assert.equal(fetch.status?.podName, 'pr-fetch-pod');
      assert.equal((await core().readNamespacedPod({ namespace: ns, name: 'pr-fetch-pod' })).metadata?.uid, planted.metadata?.uid, 'Tekton took the tenant\'s Pod for the child');
      assert.deepEqual((fetch.status?.results as Array<{ name: string; value: unknown }>).find((r) => r.name === 'CHAINS-GIT_COMMIT')?.value, FORGED_COMMIT);

      await assertRefused({ kind: 'PipelineRun', namespace: ns, name: 'pr' },
        new RegExp(`^POD_NOT_OWNED: pod pr-fetch-pod of pipeline task fetch \\(TaskRun pr-fetch\\) \\(status\\.podName\\) is not controlled by that TaskRun \\(uid ${fetch.metadata.uid}\\): it has no controller`));
      assert.deepEqual(runner.errors, []);
    } finally {
      await runner.stop();
    }
  });
});
