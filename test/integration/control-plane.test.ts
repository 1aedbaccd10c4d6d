import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiextensionsV1Api, Watch, VersionApi } from '@kubernetes/client-node';
import { newNamespace, testEnv } from '../harness/index.ts';
import { createTaskRun, succeededStatus, trainingTaskRun, updateTaskRunStatus, type TaskRunObject } from '../support/tekton.ts';

describe('the local control plane', () => {
  it('is a real kube-apiserver v1.34 serving the Tekton v1 CRDs', async () => {
    const env = testEnv();
    const version = await env.kubeConfig('admin').makeApiClient(VersionApi).getCode();
    assert.match(version.gitVersion, /^v1\.34\.\d+$/);
    const crd = await env.kubeConfig('admin').makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'taskruns.tekton.dev' });
    assert.deepEqual(crd.spec.versions.map((v) => v.name), ['v1']);
    assert.equal(crd.spec.conversion?.strategy, 'None');
  });

  it('prunes TaskRun fields the official schema does not declare', async () => {
    const env = testEnv();
    const ns = await newNamespace(env, 'prune');
    const tr = trainingTaskRun(ns, 'pruned');
    (tr.spec).notATektonField = 'dropped';
    const created = await createTaskRun(env.kubeConfig('admin'), tr);
    assert.equal((created.spec).notATektonField, undefined);
    assert.deepEqual(created.spec.taskRef, { name: 'train-model', kind: 'Task' });
  });

  // The API server's part only: the status is written by the test on a TaskRun the Tekton
  // controller leaves alone (spec.managedBy); runs that real Tekton finishes are in tekton-*.test.ts.
  describe('when a finished TaskRun status is written through the status subresource (hand-written status)', () => {
    it('the API server delivers its Succeeded condition, results, podName and step imageIDs to a watcher', async () => {
      const env = testEnv();
      const kc = env.kubeConfig('admin');
      const ns = await newNamespace(env, 'watch');
      await createTaskRun(kc, trainingTaskRun(ns, 'train-1'));

      const seen = new Promise<TaskRunObject>((resolve, reject) => {
        const watch = new Watch(kc);
        const controller = watch.watch(`/apis/tekton.dev/v1/namespaces/${ns}/taskruns`, {}, (type, obj: TaskRunObject) => {
          const conditions = (obj.status?.conditions ?? []) as Array<{ type: string; status: string }>;
          if (type === 'MODIFIED' && conditions.some((c) => c.type === 'Succeeded' && c.status === 'True')) {
            void controller.then((c) => c.abort());
            resolve(obj);
          }
        }, (err) => { if (err && (err as Error).name !== 'AbortError') reject(err as Error); });
        controller.catch(reject);
      });
      // Give the watch a moment to be established before the status update.
      await new Promise((r) => setTimeout(r, 300));
      const results = [
        { name: 'model_ARTIFACT_OUTPUTS', type: 'object' as const, value: { uri: 'gs://models/m/v1/pytorch_model.pth', digest: `sha256:${'ab'.repeat(32)}`, isBuildArtifact: 'true' } },
        { name: 'FRAMEWORKS', type: 'array' as const, value: ['pkg:pypi/torch@2.8.0'] },
        { name: 'CHAINS-GIT_COMMIT', type: 'string' as const, value: 'c0ffee' },
      ];
      await updateTaskRunStatus(kc, ns, 'train-1', succeededStatus('train-1-pod', results));

      const observed = await seen;
      assert.equal(observed.status?.podName, 'train-1-pod');
      assert.deepEqual(observed.status?.results, results);
      const steps = observed.status?.steps as Array<{ imageID: string }>;
      assert.match(steps[0]?.imageID ?? '', /@sha256:[0-9a-f]{64}$/);
    });
  });
});
