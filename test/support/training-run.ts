// Training runs for the operator tests, run by the real Tekton controller: the test applies a
// Task whose one step, `train`, declares the results it reports, creates the TaskRun, and plays
// that step once Tekton's Pod runs on a fake GKE node (pod-runner.ts): it writes the model to
// (fake) GCS and reports the results, which Tekton reads from the Pod and writes into the
// TaskRun's status. finishRunByHand keeps a hand-written status for the few shapes Tekton cannot
// produce; a test that uses it says so in its name.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { TestEnv } from '../harness/index.ts';
import { createTaskRun, getTaskRun, succeededStatus, trainingTaskRun, updateTaskRunStatus, type TaskRunObject } from './tekton.ts';
import { applyObjects, createRun, isDone, supplyOutcomes, waitForRun, type Manifest, type RunningPod, type TektonRun } from './tekton-runs.ts';

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

export async function uploadModel(env: TestEnv, objectName: string, data: Buffer): Promise<string> {
  await env.storageClient().bucket(env.bucket).file(objectName).save(data, { resumable: false });
  return gsUri(env, objectName);
}

export const gsUri = (env: TestEnv, objectName: string): string => `gs://${env.bucket}/${objectName}`;

export interface RunResult {
  name: string;
  type: 'string' | 'array' | 'object';
  value: unknown;
}

export function modelOutput(uri: string, digestHex: string): RunResult {
  return { name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: { uri, digest: `sha256:${digestHex}`, isBuildArtifact: 'true' } };
}

/** What the train step does while its Pod runs. */
export interface TrainStep {
  /** Objects it writes to the test bucket (object name -> content), so they are newer than the run. */
  readonly writes?: Readonly<Record<string, Buffer | string>>;
  /** Anything more it does after those writes (it knows its TaskRun's UID from the Pod's owner). */
  readonly during?: (pod: RunningPod) => Promise<void>;
  /** What it reports; the Task declares exactly these results (object properties from the value's keys). */
  readonly results: readonly RunResult[];
  /** Non-zero: the step fails, and Tekton fails the run. */
  readonly exitCode?: number;
}

interface Metadata {
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface TrainingRunOptions {
  /** Who applies the Task and creates the TaskRun (default: admin). */
  readonly as?: KubeConfig;
  /** Metadata its creator puts on the TaskRun. */
  readonly metadata?: Metadata;
  /** Metadata on the Task, which Tekton copies onto the TaskRun. */
  readonly taskMetadata?: Metadata;
  /** String params the Task declares and the TaskRun sets. */
  readonly params?: Readonly<Record<string, string>>;
  /** Asks for one NVIDIA L4 as the GKE examples do: the Pod lands on the L4 pool. */
  readonly gpu?: boolean;
  /** The step, once it has written, keeps running until this resolves. */
  readonly hold?: Promise<void>;
  /** What `done` waits for (default: Tekton finished the run). */
  readonly until?: (run: TektonRun) => boolean;
  readonly timeoutMs?: number;
}

const STEP_IMAGE = 'python:3.11-slim';

function declared(result: RunResult): Record<string, unknown> {
  if (result.type !== 'object') return { name: result.name, type: result.type };
  const keys = Object.keys(result.value as Record<string, unknown>);
  return { name: result.name, type: 'object', properties: Object.fromEntries(keys.map((k) => [k, { type: 'string' }])) };
}

/** The Task a run of `name` references (named after it, so each run declares its own results). */
function trainingTask(name: string, step: TrainStep, options: TrainingRunOptions): Manifest {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'Task',
    metadata: { name, ...options.taskMetadata },
    spec: {
      params: Object.keys(options.params ?? {}).map((p) => ({ name: p, type: 'string' })),
      results: step.results.map(declared),
      steps: [{
        name: 'train', image: STEP_IMAGE, script: 'exec python -m training',
        ...(options.gpu ? { computeResources: { limits: { 'nvidia.com/gpu': '1' } } } : {}),
      }],
    },
  };
}

// As tasks/examples/pipelinerun-gpu.yaml places a train Pod on GKE's tainted L4 nodes.
const L4_POD_TEMPLATE = {
  nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
  tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
};

function trainingRunManifest(name: string, options: TrainingRunOptions): Manifest {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name, ...options.metadata },
    spec: {
      taskRef: { name },
      params: Object.entries(options.params ?? {}).map(([p, value]) => ({ name: p, value })),
      ...(options.gpu ? { podTemplate: L4_POD_TEMPLATE } : {}),
    },
  };
}

export interface StartedRun {
  readonly created: TektonRun;
  /** Resolves once the step has written and is held (options.hold); rejects if the run ends first. */
  readonly holding: Promise<void>;
  /** The TaskRun once `until` holds (default: Tekton finished it). */
  readonly done: Promise<TektonRun>;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** Applies the Task, creates the TaskRun and plays its train step; returns once the TaskRun exists. */
export async function startTrainingRun(env: TestEnv, namespace: string, name: string, step: TrainStep, options: TrainingRunOptions = {}): Promise<StartedRun> {
  const creator = options.as ?? env.kubeConfig('admin');
  await applyObjects(creator, namespace, [trainingTask(name, step, options)]);
  const ended = deferred<false>();
  const holding = deferred<void>();
  const runner = supplyOutcomes(env, namespace, async (pod) => {
    if (pod.taskRun !== name) return undefined;
    for (const [object, content] of Object.entries(step.writes ?? {})) await uploadModel(env, object, Buffer.from(content));
    await step.during?.(pod);
    holding.resolve();
    if (options.hold && (await Promise.race([options.hold.then(() => true), ended.promise])) === false) return undefined;
    const results = Object.fromEntries(step.results.map((r) => [r.name, r.value]));
    return { train: { results, ...(step.exitCode === undefined ? {} : { exitCode: step.exitCode }) } };
  });
  const stop = async (): Promise<void> => {
    ended.resolve(false);
    await runner.stop();
  };
  let created: TektonRun;
  try {
    created = await createRun(creator, namespace, trainingRunManifest(name, options));
  } catch (err) {
    await stop();
    throw err;
  }
  const ref = { kind: 'TaskRun', namespace, name } as const;
  const done = waitForRun(env.kubeConfig('admin'), ref, options.until ?? isDone, { runner, timeoutMs: options.timeoutMs ?? 60_000 }).finally(stop);
  // Awaited later by the test; a rejection meanwhile is not unhandled.
  done.catch(() => undefined);
  const notHolding = done.then(() => { throw new Error(`TaskRun ${namespace}/${name} ended before its step was held`); });
  const held = Promise.race([holding.promise, notHolding]);
  held.catch(() => undefined);
  return { created, holding: held, done };
}

/** A training run through real Tekton, from Task to the TaskRun's end (or `until`). */
export async function finishTrainingRun(env: TestEnv, namespace: string, name: string, step: TrainStep, options: TrainingRunOptions = {}): Promise<TektonRun> {
  return (await startTrainingRun(env, namespace, name, step, options)).done;
}

export interface HandWrittenOptions {
  /** Who creates the TaskRun (default: admin); its status is always written by the admin. */
  readonly as?: KubeConfig;
  readonly metadata?: Metadata;
  /** How long ago the run completed (default: now). */
  readonly completedAgoMs?: number;
}

/**
 * For shapes real Tekton cannot produce — a result over the 4096 bytes a termination message
 * carries, a run that completed an hour ago: a TaskRun the Tekton controller leaves alone
 * (spec.managedBy), its finished status written by hand through the status subresource. Its
 * status.podName, `<name>-pod`, names a Pod no one creates.
 */
export async function finishRunByHand(env: TestEnv, namespace: string, name: string, results: readonly RunResult[], options: HandWrittenOptions = {}): Promise<TaskRunObject> {
  const admin = env.kubeConfig('admin');
  const tr = trainingTaskRun(namespace, name);
  tr.metadata = { ...tr.metadata, ...options.metadata };
  await createTaskRun(options.as ?? admin, tr);
  const status = succeededStatus(`${name}-pod`, [...results]);
  if (options.completedAgoMs !== undefined) {
    status.completionTime = new Date(Date.now() - options.completedAgoMs).toISOString();
    status.startTime = new Date(Date.now() - options.completedAgoMs - 60_000).toISOString();
  }
  return updateTaskRunStatus(admin, namespace, name, status);
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

export const outcomeOf = (tr: { metadata: { annotations?: Record<string, string> } }): string | undefined => tr.metadata.annotations?.['slsa-ml.dev/signed'];
