// A finished training run as the Tekton controller and the training step would leave it: the
// model in (fake) GCS, a Node with GKE labels, a bound Pod, and a TaskRun whose status carries
// the type hints. Used by the operator tests.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { TestEnv } from '../harness/index.ts';
import { createTaskRun, getTaskRun, succeededStatus, trainingTaskRun, updateTaskRunStatus, type TaskRunObject } from './tekton.ts';

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

export async function uploadModel(env: TestEnv, objectName: string, data: Buffer): Promise<string> {
  await env.storageClient().bucket(env.bucket).file(objectName).save(data, { resumable: false });
  return `gs://${env.bucket}/${objectName}`;
}

export interface RunResult {
  name: string;
  type: 'string' | 'array' | 'object';
  value: unknown;
}

export function modelOutput(uri: string, digestHex: string): RunResult {
  return { name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: { uri, digest: `sha256:${digestHex}`, isBuildArtifact: 'true' } };
}

/** Creates the TaskRun, its Node and Pod, then reports it finished with `results`. */
export async function finishTrainingRun(kc: KubeConfig, namespace: string, name: string, results: RunResult[], succeeded = true): Promise<TaskRunObject> {
  const created = await createTaskRun(kc, trainingTaskRun(namespace, name));
  const core = kc.makeApiClient(CoreV1Api);
  const nodeName = `gke-train-gpu-pool-${name}`.slice(0, 60);
  await core.createNode({ body: { metadata: { name: nodeName, labels: {
    'cloud.google.com/gke-nodepool': 'gpu-pool',
    'node.kubernetes.io/instance-type': 'n1-standard-8',
    'cloud.google.com/gke-accelerator': 'nvidia-tesla-t4',
  } } } }).catch(() => undefined);
  const podName = `${name}-pod`;
  await core.createNamespacedPod({ namespace, body: {
    // As Tekton creates it: controlled by the TaskRun, which is what makes its facts attestable.
    metadata: {
      name: podName,
      labels: { 'tekton.dev/taskRun': name },
      ownerReferences: [{ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name, uid: created.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: { nodeName, containers: [{ name: 'step-train', image: 'python:3.11-slim', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
  } });
  const status = succeededStatus(podName, results);
  if (!succeeded) {
    (status.conditions as Array<Record<string, string>>)[0] = { type: 'Succeeded', status: 'False', reason: 'Failed', message: 'step train exited 1', lastTransitionTime: new Date().toISOString() };
  }
  return updateTaskRunStatus(kc, namespace, name, status);
}

/** Polls the live TaskRun until `done` says so; fails with the last seen metadata. */
export async function waitForTaskRun(kc: KubeConfig, namespace: string, name: string, done: (tr: TaskRunObject) => boolean, timeoutMs = 30_000): Promise<TaskRunObject> {
  const deadline = Date.now() + timeoutMs;
  let last: TaskRunObject | undefined;
  while (Date.now() < deadline) {
    last = await getTaskRun(kc, namespace, name);
    if (done(last)) return last;
    await sleep(150);
  }
  throw new Error(`TaskRun ${namespace}/${name} did not reach the expected state; metadata: ${JSON.stringify(last?.metadata)}`);
}

export const outcomeOf = (tr: TaskRunObject): string | undefined => tr.metadata.annotations?.['slsa-ml.dev/signed'];
