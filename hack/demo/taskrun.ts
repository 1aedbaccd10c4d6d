// Plays the Tekton controller's part (there is no kubelet or Tekton controller here): creates
// the train-model TaskRun, the Node and Pod it ran on, then writes its finished status with the
// train step's results through the status subresource, as Tekton's reconciler does.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { RunResult } from '../../test/support/training-run.ts';
import { createTaskRun, succeededStatus, trainingTaskRun, updateTaskRunStatus, type TaskRunObject } from '../../test/support/tekton.ts';

export const NODE_NAME = 'gke-demo-cpu-pool-0';

async function createNodeAndPod(kc: KubeConfig, namespace: string, taskRun: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNode({ body: { metadata: { name: NODE_NAME, labels: {
    'cloud.google.com/gke-nodepool': 'cpu-pool',
    'node.kubernetes.io/instance-type': 'e2-standard-4',
  } } } });
  const podName = `${taskRun}-pod`;
  await core.createNamespacedPod({ namespace, body: {
    metadata: { name: podName, labels: { 'tekton.dev/taskRun': taskRun } },
    spec: { nodeName: NODE_NAME, containers: [{ name: 'step-train', image: 'python:3.11-slim' }] },
  } });
  return podName;
}

export async function recordFinishedTaskRun(kc: KubeConfig, namespace: string, name: string, results: RunResult[]): Promise<TaskRunObject> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  await createTaskRun(kc, trainingTaskRun(namespace, name));
  const podName = await createNodeAndPod(kc, namespace, name);
  return updateTaskRunStatus(kc, namespace, name, succeededStatus(podName, results));
}
