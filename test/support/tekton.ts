// Plays a controller's part for shapes the real Tekton controller cannot produce: creates
// TaskRuns and writes their status through the status subresource (UpdateStatus, as the Tekton
// reconciler does). Training runs otherwise go through real Tekton (tekton-runs.ts,
// training-run.ts, burst.ts); the TaskRuns made here say `spec.managedBy: HAND_WRITTEN` (Tekton's
// field for runs another controller owns), so the real controller leaves them, and their
// hand-written status, alone.
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

export interface TaskRunObject {
  apiVersion: 'tekton.dev/v1';
  kind: 'TaskRun';
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const TASKRUNS = { group: 'tekton.dev', version: 'v1', plural: 'taskruns' } as const;

/** The `spec.managedBy` of TaskRuns whose status a test writes by hand. */
export const HAND_WRITTEN = 'slsa-ml.dev/hand-written-status';

export function trainingTaskRun(namespace: string, name: string): TaskRunObject {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name, namespace },
    spec: {
      taskRef: { name: 'train-model', kind: 'Task' },
      params: [{ name: 'format', value: 'pytorch_model.pth' }],
      serviceAccountName: 'default',
      managedBy: HAND_WRITTEN,
    },
  };
}

export async function createTaskRun(kc: KubeConfig, tr: TaskRunObject): Promise<TaskRunObject> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return (await api.createNamespacedCustomObject({ ...TASKRUNS, namespace: tr.metadata.namespace, body: tr })) as TaskRunObject;
}

export async function getTaskRun(kc: KubeConfig, namespace: string, name: string): Promise<TaskRunObject> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return (await api.getNamespacedCustomObject({ ...TASKRUNS, namespace, name })) as TaskRunObject;
}

/**
 * Replaces the whole status of the live object, as the Tekton reconciler's UpdateStatus does,
 * re-reading and retrying on a 409 (someone else, e.g. the operator adding its finalizer, wrote first).
 */
export async function updateTaskRunStatus(kc: KubeConfig, namespace: string, name: string, status: Record<string, unknown>): Promise<TaskRunObject> {
  const api = kc.makeApiClient(CustomObjectsApi);
  for (let attempt = 1; ; attempt++) {
    const live = await getTaskRun(kc, namespace, name);
    try {
      return (await api.replaceNamespacedCustomObjectStatus({ ...TASKRUNS, namespace, name, body: { ...live, status } })) as TaskRunObject;
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409) || attempt >= 10) throw err;
    }
  }
}

export function succeededStatus(podName: string, results: Array<{ name: string; type: 'string' | 'array' | 'object'; value: unknown }>): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    taskSpec: { results: results.map((r) => ({ name: r.name, type: r.type })), steps: [{ name: 'train', image: 'python:3.11-slim' }] },
    podName,
    startTime: new Date(Date.now() - 60_000).toISOString(),
    completionTime: now,
    conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded', message: 'All Steps have completed executing', lastTransitionTime: now }],
    results,
    steps: [{
      name: 'train',
      container: 'step-train',
      imageID: 'docker.io/library/python@sha256:9f3e0c2b8a7d6e5f4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c',
      terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now },
    }],
  };
}
