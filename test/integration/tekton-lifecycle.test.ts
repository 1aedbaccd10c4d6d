// A TaskRun's life as the real Tekton controller leads it, and what the operator makes of it:
// a retry after a failed first attempt (only the attempt that succeeded is attested), a timeout
// and a cancellation (Tekton deletes the Pod and fails the run; nothing is attested and the
// operator's finalizer does not keep the run).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { testEnv, uniqueName } from '../harness/index.ts';
import { startKeySignedOperator, stopAllOperators, type OperatorProcess } from '../support/operator-process.ts';
import {
  applyObjects, createRun, isDone, loadDocuments, podsOf, readStatement, succeeded, supplyOutcomes, tektonNamespace, waitForRun, type TektonRun,
} from '../support/tekton-runs.ts';
import { trainedModel } from '../support/tekton-training.ts';
import { join } from 'node:path';

const env = testEnv();
const admin = env.kubeConfig('admin');
const repo = join(import.meta.dirname, '..', '..');
const prefix = uniqueName('tekton-lifecycle');
const FINALIZER = 'slsa-ml.dev/provenance';

let operator: OperatorProcess;

function trainingRun(ns: string, name: string, spec: Record<string, unknown> = {}): TektonRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name, namespace: ns },
    spec: {
      taskRef: { name: 'train-model' },
      params: [{ name: 'format', value: 'pytorch_model.pth' }, { name: 'model-uri', value: `gs://${env.bucket}/${prefix}/${ns}/${name}` }],
      ...spec,
    },
  };
}

async function namespaceWithTask(hint: string): Promise<string> {
  const ns = await tektonNamespace(env, hint);
  await applyObjects(admin, ns, loadDocuments(join(repo, 'tasks', 'train-model.yaml')));
  return ns;
}

const outcomeOf = (run: TektonRun): string | undefined => run.metadata.annotations?.['slsa-ml.dev/signed'];
const attestedOrReleased = (run: TektonRun): boolean => isDone(run) && (outcomeOf(run) !== undefined || !(run.metadata.finalizers ?? []).includes(FINALIZER));

describe('a TaskRun through real Tekton, from start to end', () => {
  before(async () => {
    ({ operator } = await startKeySignedOperator(env, prefix));
  });

  after(async () => {
    await operator.stop('SIGTERM');
    await stopAllOperators();
  });

  it('with spec.retries, a failed first attempt is retried on a new Pod and only the attempt that succeeded is attested', async () => {
    const ns = await namespaceWithTask('tekton-retry');
    let model: Awaited<ReturnType<typeof trainedModel>> | undefined;
    const runner = supplyOutcomes(env, ns, async (pod) => {
      if (pod.attempt === 0) return { clone: {}, train: { exitCode: 1 } };
      model = await trainedModel(env, pod);
      return model.outcomes;
    });
    try {
      await createRun(admin, ns, trainingRun(ns, 'train', { retries: 1 }));
      const run = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: 'train' }, (r) => outcomeOf(r) !== undefined, { runner, timeoutMs: 60_000 });
      assert.equal(succeeded(run)?.status, 'True');
      assert.equal(outcomeOf(run), 'true', run.metadata.annotations?.['slsa-ml.dev/reason']);
      assertFirstAttemptRecorded(run);
      assert.deepEqual((await podsOf(env, ns, 'train')).map((p) => p.metadata?.name), ['train-pod', 'train-pod-retry1']);
      const statement = await readStatement(env, run.metadata.annotations?.['slsa-ml.dev/bundle'] ?? '');
      assert.equal(statement.subject[0]?.digest.sha256, model?.digest);
      assert.equal(statement.predicate.runDetails.metadata?.invocationId, run.metadata.uid);
      // startedOn is the retry's start: Tekton resets status.startTime for each attempt.
      assert.equal(statement.predicate.runDetails.metadata?.startedOn, run.status?.startTime);
      assert.deepEqual(runner.errors, []);
    } finally {
      await runner.stop();
    }
  });

  it('on a timeout, Tekton deletes the Pod and fails the run; nothing is attested and the finalizer is released', async () => {
    const ns = await namespaceWithTask('tekton-timeout');
    const runner = supplyOutcomes(env, ns, () => undefined);
    try {
      await createRun(admin, ns, trainingRun(ns, 'slow', { timeout: '4s' }));
      const run = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: 'slow' }, attestedOrReleased, { runner, timeoutMs: 60_000 });
      assert.equal(succeeded(run)?.status, 'False');
      assert.equal(succeeded(run)?.reason, 'TaskRunTimeout');
      assert.equal(outcomeOf(run), undefined);
      assert.ok(!(run.metadata.finalizers ?? []).includes(FINALIZER));
      await waitPodGone(ns, 'slow-pod');
      assert.deepEqual(runner.errors, []);
    } finally {
      await runner.stop();
    }
  });

  it('on a cancellation (spec.status TaskRunCancelled), Tekton deletes the Pod and fails the run; nothing is attested', async () => {
    const ns = await namespaceWithTask('tekton-cancel');
    const runner = supplyOutcomes(env, ns, () => undefined);
    try {
      await createRun(admin, ns, trainingRun(ns, 'cancelled'));
      await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: 'cancelled' }, (r) => succeeded(r)?.reason === 'Running' && (r.metadata.finalizers ?? []).includes(FINALIZER), { runner });
      await KubernetesObjectApi.makeApiClient(admin).patch(
        { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'cancelled', namespace: ns }, spec: { status: 'TaskRunCancelled' } },
        undefined, undefined, 'kubectl', undefined, PatchStrategy.MergePatch);
      const run = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: 'cancelled' }, attestedOrReleased, { runner });
      assert.equal(succeeded(run)?.status, 'False');
      assert.equal(succeeded(run)?.reason, 'TaskRunCancelled');
      assert.equal(outcomeOf(run), undefined);
      await waitPodGone(ns, 'cancelled-pod');
      assert.deepEqual(runner.errors, []);
    } finally {
      await runner.stop();
    }
  });
});

/** What Tekton keeps of the failed first attempt: its Pod, condition and steps, but no results. */
function assertFirstAttemptRecorded(run: TektonRun): void {
  const retries = run.status?.retriesStatus as Array<{ podName: string; conditions: Array<{ status: string; reason: string }>; results?: unknown }>;
  assert.equal(retries.length, 1);
  const [first] = retries;
  assert.equal(first?.podName, 'train-pod');
  assert.deepEqual(first?.conditions.map((c) => [c.status, c.reason]), [['False', 'Failed']]);
  assert.equal(first?.results, undefined);
  assert.equal(run.status?.podName, 'train-pod-retry1');
}

async function waitPodGone(ns: string, name: string): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  for (let i = 0; i < 100; i++) {
    if (!(await core.readNamespacedPod({ name, namespace: ns }).then(() => true, () => false))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`Pod ${ns}/${name} was not deleted`);
}

