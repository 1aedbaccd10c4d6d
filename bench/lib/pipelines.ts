// The PipelineRun workload of bench/operator-memory.ts: finished PipelineRuns, each with its child
// TaskRuns, written by hand as the Tekton controller would leave them (create, then the status
// subresource), with `spec.managedBy` so the real controller leaves them alone. Each child is
// controlled by its PipelineRun (ownerReference with controller: true and the PipelineRun's UID)
// and named in the PipelineRun's status.childReferences. Every PipelineRun already carries an
// outcome sealed with BENCH_SEAL_KEY (the operator is started with that key as seal.keyPath):
// most `signed` (a model result), every SKIPPED_EVERY-th `skipped` (no model anywhere), so the
// operator lists and watches them and queues none: what is measured is the watch.
import { ApiStatusError, type KubeApi } from '../../operator/kube/index.ts';
import { OutcomeSeal } from '../../operator/reconcile/seal.ts';
import { oneLine, outcomeMetadata, type OutcomeValues } from '../../operator/reconcile/outcome.ts';
import { HAND_WRITTEN, succeededStatus } from '../../test/support/tekton.ts';

/** The seal key of the bench's outcomes (not a secret: it seals only objects in bench namespaces). */
export const BENCH_SEAL_KEY = 'slsa-ml bench outcome seal key: not a secret, bench namespaces only';

/** The pipeline's tasks, in order: a PipelineRun has one child TaskRun per task (up to this many). */
const TASKS = ['fetch-source', 'train', 'evaluate', 'upload', 'report', 'notify', 'cleanup', 'publish'] as const;
/** Every this-many-th PipelineRun trained nothing: its outcome is `skipped`. */
const SKIPPED_EVERY = 10;
const PIPELINE = 'train-pipeline';

export interface PipelineWorkload {
  readonly namespace: string;
  readonly pipelineRuns: number;
  readonly childrenPerRun: number;
  /** Every this-many-th child TaskRun (counted over the whole namespace) carries a large result. */
  readonly largeEvery: number;
  readonly largeBytes: number;
  readonly concurrency: number;
}

interface Created { metadata: { name: string; uid: string; resourceVersion?: string } }
/** An object to create: its name is all this file reads back. */
interface NewObject { metadata: { name: string } & Record<string, unknown>; [field: string]: unknown }

const collection = (ns: string, plural: 'taskruns' | 'pipelineruns'): string => `/apis/tekton.dev/v1/namespaces/${ns}/${plural}`;

/** Runs fn over items with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

/** Creates the object, or reads the one a previous, interrupted fill left under that name. */
async function createOrGet<T>(api: KubeApi, path: string, body: NewObject): Promise<T> {
  try {
    return await api.request<T>({ method: 'POST', path, body });
  } catch (err) {
    if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
    return api.request<T>({ method: 'GET', path: `${path}/${body.metadata.name}` });
  }
}

/**
 * Replaces the whole status of `live` (as the Tekton reconciler's UpdateStatus does), re-reading
 * and retrying when someone else wrote first (409).
 */
async function putStatus(api: KubeApi, path: string, live: Created, status: Record<string, unknown>): Promise<void> {
  for (let attempt = 1, current = live; ; attempt++) {
    try {
      await api.request({ method: 'PUT', path: `${path}/${current.metadata.name}/status`, body: { ...current, status } });
      return;
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 409) || attempt >= 10) throw err;
      current = await api.request<Created>({ method: 'GET', path: `${path}/${current.metadata.name}` });
    }
  }
}

export const pipelineRunName = (i: number): string => `pipe-${String(i).padStart(5, '0')}`;

/**
 * Fills the namespace (which must exist). Per PipelineRun: create it, record its sealed outcome
 * (a merge patch: the UID is known only now), write its finished status listing the children,
 * then create each child controlled by it and write the child's status.
 *
 * The PipelineRun is finished before its first child exists because Tekton v1.9.0 honours
 * `spec.managedBy` only for PipelineRun events: an event on a TaskRun it controls enqueues the
 * PipelineRun, whoever manages it, and the Tekton controller would fail a running one
 * (CouldntGetPipeline: there is no Pipeline). A finished one it leaves as it is.
 */
export async function fillPipelineRuns(api: KubeApi, w: PipelineWorkload, progress: (done: number) => void): Promise<void> {
  if (w.childrenPerRun < 1 || w.childrenPerRun > TASKS.length) throw new Error(`--children must be 1..${TASKS.length}`);
  const seal = new OutcomeSeal([Buffer.from(BENCH_SEAL_KEY, 'utf8')], 'bench');
  const filler = 'r'.repeat(w.largeBytes);
  const prs = collection(w.namespace, 'pipelineruns');
  const trs = collection(w.namespace, 'taskruns');
  let done = 0;
  await pool(Array.from({ length: w.pipelineRuns }, (_, i) => i), w.concurrency, async (i) => {
    const name = pipelineRunName(i);
    const signed = i % SKIPPED_EVERY !== SKIPPED_EVERY - 1;
    const modelUri = `gs://bench/models/${name}/pytorch_model.pth`;
    const created = await createOrGet<Created>(api, prs, pipelineRunObject(w.namespace, name, modelUri));
    const values: OutcomeValues = signed
      ? { signed: 'true', bundle: `${modelUri}.sigstore.json`, label: 'signed' }
      : { signed: 'skipped', reason: oneLine('NO_BUILD_ARTIFACT: neither the PipelineRun nor any of its TaskRuns reports a model output'), label: 'skipped' };
    const sealed = await api.request<Created>({
      method: 'PATCH',
      path: `${prs}/${name}`,
      contentType: 'application/merge-patch+json',
      body: { metadata: outcomeMetadata(values, seal.seal(created.metadata.uid, values)) },
    });
    const children = TASKS.slice(0, w.childrenPerRun).map((task) => ({ task, name: `${name}-${task}` }));
    await putStatus(api, prs, sealed, pipelineRunStatus(children, signed ? modelUri : undefined));
    for (const [k, child] of children.entries()) {
      const large = (i * w.childrenPerRun + k) % w.largeEvery === w.largeEvery - 1;
      const live = await createOrGet<Created>(api, trs, childTaskRun(w.namespace, child.name, child.task, name, created.metadata.uid));
      const results: Array<{ name: string; type: 'string' | 'object'; value: unknown }> = [{ name: 'duration-seconds', type: 'string', value: '312' }];
      if (signed && child.task === 'train') results.push({ name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: { uri: modelUri, digest: `sha256:${'ab'.repeat(32)}` } });
      if (large) results.push({ name: 'report', type: 'string', value: filler });
      await putStatus(api, trs, live, succeededStatus(`${child.name}-pod`, results));
    }
    progress(++done);
  });
}

function pipelineRunObject(namespace: string, name: string, modelUri: string): NewObject {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name, namespace, labels: { 'tekton.dev/pipeline': PIPELINE } },
    spec: {
      pipelineRef: { name: PIPELINE },
      params: [{ name: 'model-uri', value: modelUri }, { name: 'git-revision', value: 'main' }],
      taskRunTemplate: { serviceAccountName: 'default' },
      managedBy: HAND_WRITTEN,
    },
  };
}

function childTaskRun(namespace: string, name: string, task: string, pipelineRun: string, uid: string): NewObject {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: {
      name,
      namespace,
      labels: { 'tekton.dev/pipeline': PIPELINE, 'tekton.dev/pipelineRun': pipelineRun, 'tekton.dev/pipelineTask': task, 'tekton.dev/task': task },
      ownerReferences: [{ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pipelineRun, uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { taskRef: { name: task, kind: 'Task' }, serviceAccountName: 'default', managedBy: HAND_WRITTEN },
  };
}

function pipelineRunStatus(children: ReadonlyArray<{ task: string; name: string }>, modelUri: string | undefined): Record<string, unknown> {
  const now = new Date().toISOString();
  const results = modelUri ? [{ name: 'model_ARTIFACT_OUTPUTS', value: { uri: modelUri, digest: `sha256:${'ab'.repeat(32)}` } }] : [];
  return {
    conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded', message: `Tasks Completed: ${children.length} (Failed: 0, Cancelled 0), Skipped: 0`, lastTransitionTime: now }],
    startTime: new Date(Date.now() - 600_000).toISOString(),
    completionTime: now,
    childReferences: children.map((c) => ({ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: c.name, pipelineTaskName: c.task })),
    results,
    pipelineSpec: {
      params: [{ name: 'model-uri', type: 'string' }, { name: 'git-revision', type: 'string', default: 'main' }],
      tasks: children.map((c, k) => ({ name: c.task, taskRef: { name: c.task, kind: 'Task' }, ...(k > 0 ? { runAfter: [children[k - 1]?.task] } : {}) })),
      ...(modelUri ? { results: [{ name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: '$(tasks.train.results.model_ARTIFACT_OUTPUTS)' }] } : {}),
    },
    provenance: { featureFlags: { enableAPIFields: 'beta', resultExtractionMethod: 'termination-message' }, refSource: { uri: 'git+https://github.com/example/train-pipeline', digest: { sha1: 'f'.repeat(40) } } },
  };
}
