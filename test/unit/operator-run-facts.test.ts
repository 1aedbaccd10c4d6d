// Whose Pod a run's status comes from: only a Pod whose controller is the TaskRun's own UID gives
// facts, one that is there and controlled by anything else (an orphan Tekton adopted, a
// look-alike) refuses the run before any model is read, and one that is gone leaves the facts out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterFacts, TaskRun } from '../../operator/kube/index.ts';
import { attest, type AttestDeps, type AttestSettings } from '../../operator/reconcile/attest.ts';
import { ReconcileFailure, toFailure } from '../../operator/reconcile/index.ts';
import { withPlacement } from '../../operator/reconcile/pipeline-children.ts';
import { runFacts } from '../../operator/reconcile/run-facts.ts';
import type { Node, Pod } from '../../src/provenance/index.ts';
import type { Storage } from '../../src/storage/index.ts';

const UID = '6f1c2a3e-0000-4000-8000-000000000001';
const OLD_UID = '6f1c2a3e-0000-4000-8000-00000000000f';
const NODE: Node = { metadata: { name: 'gke-a100-1', labels: { 'cloud.google.com/gke-nodepool': 'a100-pool' } } };

function taskRun(podName = 'train-pod'): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1', kind: 'TaskRun',
    metadata: { name: 'train', namespace: 'team', uid: UID },
    status: {
      ...(podName ? { podName } : {}),
      conditions: [{ type: 'Succeeded', status: 'True' }],
      results: [{ name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: { uri: 'gs://b/team/model.pth', isBuildArtifact: 'true' } }],
    },
  };
}

type Ref = NonNullable<NonNullable<Pod['metadata']>['ownerReferences']>[number];
const controllerRef = (kind: string, name: string, uid: string): Ref => ({ apiVersion: kind === 'TaskRun' ? 'tekton.dev/v1' : 'apps/v1', kind, name, uid, controller: true });

function pod(ownerReferences: Ref[] | undefined, labels?: Record<string, string>): Pod {
  return { metadata: { name: 'train-pod', ...(ownerReferences ? { ownerReferences } : {}), ...(labels ? { labels } : {}) }, spec: { nodeName: 'gke-a100-1' } };
}

/** The cluster as the operator reads it; `reads` lists what was asked. */
function cluster(pods: Record<string, Pod>): { facts: ClusterFacts; reads: string[] } {
  const reads: string[] = [];
  const facts = {
    pod: (namespace: string, name: string | undefined) => { reads.push(`pod ${namespace}/${String(name)}`); return Promise.resolve(name ? pods[name] : undefined); },
    node: (name: string | undefined) => { reads.push(`node ${String(name)}`); return Promise.resolve(name === NODE.metadata?.name ? NODE : undefined); },
  } as unknown as ClusterFacts;
  return { facts, reads };
}

const notOwned = (pattern: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof ReconcileFailure, String(err));
  assert.equal(err.code, 'POD_NOT_OWNED');
  assert.equal(err.retryable, false);
  assert.match(err.message, pattern);
  // The reconciler records it as it is: failed, not retried.
  assert.equal(toFailure(err), err);
  return true;
};

describe('a run\'s Pod', () => {
  it('controlled by the TaskRun\'s own UID: its Pod and Node are the facts', async () => {
    const { facts } = cluster({ 'train-pod': pod([controllerRef('TaskRun', 'train', UID)]) });
    const got = await runFacts(facts, taskRun());
    assert.equal(got.pod?.metadata?.name, 'train-pod');
    assert.deepEqual(got.node, NODE);
    assert.equal(got.factsOmitted, undefined);
  });

  it('an orphan (no controller, as the garbage collector leaves it after --cascade=orphan) refuses the run, naming pod, run and the UID it was made for', async () => {
    const { facts, reads } = cluster({ 'train-pod': pod(undefined, { 'tekton.dev/taskRun': 'train', 'tekton.dev/taskRunUID': OLD_UID }) });
    await assert.rejects(runFacts(facts, taskRun()), notOwned(new RegExp(`^pod train-pod of TaskRun train \\(status\\.podName\\) is not controlled by that TaskRun \\(uid ${UID}\\): it has no controller \\(an orphan labelled for TaskRun uid ${OLD_UID}, or a Pod created by hand\\); .*none of them is attested$`)));
    assert.deepEqual(reads, ['pod team/train-pod'], 'no Node is read for a refused run');
  });

  it('a Pod controlled by an earlier TaskRun of the same name, or by anything else, refuses the run and names its controller', async () => {
    for (const [ref, named] of [
      [controllerRef('TaskRun', 'train', OLD_UID), `TaskRun train \\(uid ${OLD_UID}\\)`],
      [controllerRef('ReplicaSet', 'web-7d9', 'rs-uid'), 'ReplicaSet web-7d9 \\(uid rs-uid\\)'],
    ] as const) {
      const { facts } = cluster({ 'train-pod': pod([ref]) });
      await assert.rejects(runFacts(facts, taskRun()), notOwned(new RegExp(`its controller is ${named}`)));
    }
  });

  it('an owner reference to this TaskRun that is not the controller does not make the Pod its own', async () => {
    const { facts } = cluster({ 'train-pod': pod([{ ...controllerRef('TaskRun', 'train', UID), controller: false }]) });
    await assert.rejects(runFacts(facts, taskRun()), notOwned(/it has no controller \(an orphan, or a Pod created by hand\)/));
  });

  it('gone (pruned) or unreadable: Tekton\'s status is all there is, so the run goes on without Pod and Node facts, and says why', async () => {
    const { facts, reads } = cluster({});
    assert.deepEqual(await runFacts(facts, taskRun()), { factsOmitted: 'pod train-pod was not found or not readable' });
    assert.deepEqual(await runFacts(facts, taskRun('')), {});
    assert.deepEqual(reads, ['pod team/train-pod', 'pod team/undefined']);
  });

  it('a pipeline task whose Pod is not its own refuses the PipelineRun, naming the task', async () => {
    const fetchPod: Pod = { metadata: { name: 'p-fetch-pod', ownerReferences: [controllerRef('TaskRun', 'p-fetch', 'fetch-uid')] } };
    const fetch = { metadata: { name: 'p-fetch', namespace: 'team', uid: 'fetch-uid' }, status: { podName: 'p-fetch-pod' } };
    const children = [{ pipelineTask: 'fetch', taskRun: fetch }, { pipelineTask: 'train', taskRun: taskRun() as unknown as typeof fetch }];
    const orphaned = cluster({ 'p-fetch-pod': fetchPod, 'train-pod': pod(undefined) });
    await assert.rejects(withPlacement(orphaned.facts, children), notOwned(new RegExp(`^pod train-pod of pipeline task train \\(TaskRun train\\) \\(status\\.podName\\) is not controlled by that TaskRun \\(uid ${UID}\\)`)));
    // The same children, each with its own Pod, are placed.
    const own = cluster({ 'p-fetch-pod': fetchPod, 'train-pod': pod([controllerRef('TaskRun', 'train', UID)]) });
    const placed = await withPlacement(own.facts, children);
    assert.deepEqual(placed.map((c) => [c.pipelineTask, c.pod?.metadata?.name, c.node?.metadata?.name]), [['fetch', 'p-fetch-pod', undefined], ['train', 'train-pod', 'gke-a100-1']]);
  });

  it('a TaskRun whose Pod is not its own is refused before storage is touched: no model read, nothing written', async () => {
    const touched: string[] = [];
    const storage = new Proxy({}, { get: (_target, name) => () => { touched.push(String(name)); throw new Error(`storage.${String(name)} called`); } }) as Storage;
    const { facts } = cluster({ 'train-pod': pod(undefined) });
    const deps = { facts, storage, settings: { modelSignature: true, summaries: { policies: [] } } as unknown as AttestSettings } as unknown as AttestDeps;
    await assert.rejects(attest(deps, taskRun()), notOwned(/^pod train-pod of TaskRun train /));
    assert.deepEqual(touched, []);
  });
});
