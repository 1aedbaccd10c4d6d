// The work both controllers get: training TaskRuns, each with its own Pod (controlled by the run, on
// one of a few GKE-labelled Nodes) and its own model in fake GCS, created while the run "runs";
// then finished by writing their status as the Tekton controller would, all at once (a burst) or
// at a steady rate. A watch notes when each run's signed annotation appears.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiStatusError, type ClusterAccess, type KubeApi } from '../../operator/kube/index.ts';
import { KubeListWatch, type ObjectWithMeta } from '../../operator/kube/list.ts';
import { createGcsClient } from '../../src/storage/index.ts';
import { bucketFor } from './bench-env.ts';

const TASKRUNS = (ns: string): string => `/apis/tekton.dev/v1/namespaces/${ns}/taskruns`;
/** The image digest every step reports. */
const IMAGE_ID = 'docker.io/library/python@sha256:9f3e0c2b8a7d6e5f4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c';
export const NODES = Array.from({ length: 8 }, (_, i) => `gke-bench-gpu-pool-${i}`);

export interface Run {
  readonly name: string;
  readonly modelUri: string;
  readonly sha256: string;
}

/** Runs fn over items with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

async function ignoreConflict(call: Promise<unknown>): Promise<void> {
  await call.catch((err: unknown) => {
    if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
  });
}

export async function ensureNamespaceAndNodes(api: KubeApi, namespace: string): Promise<void> {
  await ignoreConflict(api.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } }));
  for (const name of NODES) {
    await ignoreConflict(api.request({ method: 'POST', path: '/api/v1/nodes', body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: {
      'cloud.google.com/gke-nodepool': 'gpu-pool',
      'node.kubernetes.io/instance-type': 'g2-standard-8',
      'cloud.google.com/gke-accelerator': 'nvidia-l4',
    } } } }));
  }
}

/** Creates `count` running TaskRuns with their Pods and models; `modelBytes` per model. */
export async function prepareRuns(api: KubeApi, gcsEndpoint: string, namespace: string, count: number, modelBytes = 1024): Promise<Run[]> {
  const gcs = createGcsClient({ apiEndpoint: gcsEndpoint });
  const runs: Run[] = [];
  await pool(Array.from({ length: count }, (_, i) => i), 32, async (i) => {
    const name = `train-${String(i).padStart(5, '0')}`;
    const model = Buffer.alloc(modelBytes, `${namespace}/${name} `);
    const object = `models/${namespace}/${name}/pytorch_model.pth`;
    const bucket = bucketFor(i);
    await gcs.createOnly(bucket, object, model, 'application/octet-stream');
    const tr = await api.request<{ metadata: { uid: string } }>({ method: 'POST', path: TASKRUNS(namespace), body: {
      apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name, namespace },
      spec: { taskRef: { name: 'train-model', kind: 'Task' }, params: [{ name: 'format', value: 'pytorch_model.pth' }], serviceAccountName: 'default' },
    } });
    await api.request({ method: 'POST', path: `/api/v1/namespaces/${namespace}/pods`, body: {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `${name}-pod`, namespace, labels: { 'tekton.dev/taskRun': name },
        ownerReferences: [{ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name, uid: tr.metadata.uid, controller: true, blockOwnerDeletion: true }] },
      spec: { nodeName: NODES[i % NODES.length], containers: [{ name: 'step-train', image: 'python:3.11-slim', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    } });
    runs.push({ name, modelUri: `gs://${bucket}/${object}`, sha256: createHash('sha256').update(model).digest('hex') });
  });
  return runs.sort((a, b) => a.name.localeCompare(b.name));
}

/** The status Tekton writes when the run's steps have all succeeded, with the model as a type hint. */
function succeeded(run: Run): Record<string, unknown> {
  const now = new Date().toISOString();
  const output = { name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: { uri: run.modelUri, digest: `sha256:${run.sha256}`, isBuildArtifact: 'true' } };
  return {
    podName: `${run.name}-pod`,
    startTime: new Date(Date.now() - 60_000).toISOString(),
    completionTime: now,
    conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded', message: 'All Steps have completed executing', lastTransitionTime: now }],
    taskSpec: { results: [{ name: output.name, type: output.type }], steps: [{ name: 'train', image: 'python:3.11-slim' }] },
    results: [output],
    steps: [{ name: 'train', container: 'step-train', imageID: IMAGE_ID, terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } }],
  };
}

/** Writes the finished status (one merge patch of the status subresource); returns when it was sent. */
export async function finish(api: KubeApi, namespace: string, run: Run): Promise<number> {
  const sent = Date.now();
  await api.request({ method: 'PATCH', path: `${TASKRUNS(namespace)}/${run.name}/status`, contentType: 'application/merge-patch+json', body: { status: succeeded(run) } });
  return sent;
}

/** Watches the namespace's TaskRuns and notes when each first carries `annotation`, and its value. */
export class SignedWatch {
  readonly decided = new Map<string, { at: number; value: string }>();
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  readonly #access: ClusterAccess;
  readonly #api: KubeApi;
  readonly #namespace: string;
  readonly #annotation: string;

  constructor(access: ClusterAccess, api: KubeApi, namespace: string, annotation: string) {
    this.#access = access;
    this.#api = api;
    this.#namespace = namespace;
    this.#annotation = annotation;
  }

  async start(): Promise<void> {
    const list = await this.#api.request<{ metadata: { resourceVersion: string } }>({ method: 'GET', path: TASKRUNS(this.#namespace), query: { limit: '1' } });
    let rv = list.metadata.resourceVersion;
    const source = new KubeListWatch(this.#access, TASKRUNS(this.#namespace));
    this.#loop = (async () => {
      while (!this.#stop.signal.aborted) {
        await source.watch({ resourceVersion: rv, timeoutSeconds: 25 }, {
          opened: () => undefined,
          event: (_type, obj: ObjectWithMeta) => {
            rv = obj.metadata?.resourceVersion ?? rv;
            const value = obj.metadata?.annotations?.[this.#annotation];
            const name = obj.metadata?.name ?? '';
            if (value !== undefined && !this.decided.has(name)) this.decided.set(name, { at: Date.now(), value });
          },
        }, this.#stop.signal).catch(() => sleep(200));
      }
    })();
  }

  async until(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.decided.size < count && Date.now() < deadline) await sleep(50);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }
}

/** Removes every TaskRun (finalizers stripped first: the controller that set them may be gone), Pod and Event. */
export async function cleanNamespace(api: KubeApi, namespace: string): Promise<void> {
  const list = await api.request<{ items: Array<{ metadata: { name: string; finalizers?: string[] } }> }>({ method: 'GET', path: TASKRUNS(namespace) });
  const held = list.items.filter((tr) => (tr.metadata.finalizers ?? []).length > 0);
  await pool(held, 32, (tr) => api.request({ method: 'PATCH', path: `${TASKRUNS(namespace)}/${tr.metadata.name}`, contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } }));
  for (const path of [TASKRUNS(namespace), `/api/v1/namespaces/${namespace}/pods`, `/api/v1/namespaces/${namespace}/events`]) {
    await api.request({ method: 'DELETE', path });
  }
}

/** How many of the namespace's TaskRuns carry `finalizer`. */
export async function countFinalized(api: KubeApi, namespace: string, finalizer: string): Promise<number> {
  const list = await api.request<{ items: Array<{ metadata: { finalizers?: string[] } }> }>({ method: 'GET', path: TASKRUNS(namespace) });
  return list.items.filter((tr) => (tr.metadata.finalizers ?? []).includes(finalizer)).length;
}
