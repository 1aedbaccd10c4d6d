import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { newNamespace, testEnv } from '../harness/index.ts';
import { createTaskRun, trainingTaskRun } from '../support/tekton.ts';
import { statusOf } from '../support/api-status.ts';

describe('a restricted identity on the local API server', () => {
  it('may read TaskRuns, as its ClusterRole grants', async () => {
    const env = testEnv();
    const ns = await newNamespace(env, 'rbac-read');
    await createTaskRun(env.kubeConfig('admin'), trainingTaskRun(ns, 'readable'));
    const api = env.kubeConfig('restricted').makeApiClient(CustomObjectsApi);
    const list = (await api.listNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns })) as { items: unknown[] };
    assert.equal(list.items.length, 1);
  });

  it('is refused (403) what its RBAC does not grant', async () => {
    const env = testEnv();
    const ns = await newNamespace(env, 'rbac-deny');
    const restricted = env.kubeConfig('restricted');
    assert.equal(await statusOf(createTaskRun(restricted, trainingTaskRun(ns, 'forbidden'))), 403);
    assert.equal(await statusOf(restricted.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns })), 403);
    assert.equal(await statusOf(restricted.makeApiClient(CoreV1Api).createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    })), 403);
  });

  it('is refused with 401 when its token is wrong', async () => {
    const env = testEnv();
    const kc = env.kubeConfig('restricted');
    const user = kc.getCurrentUser();
    if (user) (user as { token?: string }).token = 'not-a-valid-token';
    assert.equal(await statusOf(kc.makeApiClient(CoreV1Api).listNamespace()), 401);
  });
});
