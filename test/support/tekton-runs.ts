// Runs through the real Tekton controller of the test environment: Tasks and Pipelines applied
// as a user applies them, runs created, Tekton creating the Pods, kube-scheduler placing them on
// the fake GKE node pools, and the test saying what each step did (hack/env/pod-runner.ts), so
// that Tekton itself reads results, image digests and exit codes from the Pods and writes the
// run's status. Nothing here writes a TaskRun status.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { PodRunner, type PodHandler, type RunningPod } from '../../hack/env/pod-runner.ts';
import type { StepOutcomes } from '../../hack/env/pod-outcome.ts';
import type { Statement } from '../../src/provenance/index.ts';
import { newNamespace, type TestEnv } from '../harness/index.ts';

export type { RunningPod, PodHandler, StepOutcomes };

export interface TektonRun {
  apiVersion: string;
  kind: 'TaskRun' | 'PipelineRun';
  metadata: { name: string; namespace: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec: Record<string, unknown>;
  status?: Record<string, unknown> & { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

/** A Kubernetes object as a manifest writes it (spec and all). */
export interface Manifest extends KubernetesObject {
  readonly spec?: unknown;
}

const PLURAL = { TaskRun: 'taskruns', PipelineRun: 'pipelineruns' } as const;

/**
 * A namespace for runs, with the ServiceAccounts they name. No kube-controller-manager runs
 * here, so nothing creates a namespace's `default` ServiceAccount, which Tekton reads when it
 * builds a Pod.
 */
export async function tektonNamespace(env: TestEnv, hint: string, serviceAccounts: readonly string[] = ['default']): Promise<string> {
  const ns = await newNamespace(env, hint);
  const core = env.kubeConfig('admin').makeApiClient(CoreV1Api);
  for (const name of new Set(['default', ...serviceAccounts])) await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
  return ns;
}

/** The documents of a YAML file (a Task, a Pipeline, an example run), each a fresh copy. */
export function loadDocuments(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]?.message}`);
    return doc.toJS() as Manifest;
  }).filter((o) => o !== null);
}

/** `kubectl apply -n NAMESPACE`: server-side apply of each object. */
export async function applyObjects(kc: KubeConfig, namespace: string, objects: readonly KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of objects) {
    await api.patch({ ...o, metadata: { ...o.metadata, namespace } }, undefined, undefined, 'kubectl', true, PatchStrategy.ServerSideApply);
  }
}

/** `kubectl create -n NAMESPACE` of a run (generateName allowed); returns it as created. */
export async function createRun(kc: KubeConfig, namespace: string, run: Manifest): Promise<TektonRun> {
  const kind = run.kind as TektonRun['kind'];
  const api = kc.makeApiClient(CustomObjectsApi);
  const body = { ...run, metadata: { ...run.metadata, namespace } };
  return (await api.createNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: PLURAL[kind], namespace, body })) as TektonRun;
}

export async function getRun(kc: KubeConfig, kind: TektonRun['kind'], namespace: string, name: string): Promise<TektonRun> {
  return (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: PLURAL[kind], namespace, name })) as TektonRun;
}

export const succeeded = (run: TektonRun): { status: string; reason?: string; message?: string } | undefined =>
  run.status?.conditions?.find((c) => c.type === 'Succeeded');

/** Done as Tekton means it: the Succeeded condition is True or False. */
export const isDone = (run: TektonRun): boolean => ['True', 'False'].includes(succeeded(run)?.status ?? 'Unknown');

export interface RunRef {
  readonly kind: TektonRun['kind'];
  readonly namespace: string;
  readonly name: string;
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  /** Its errors (a handler that threw) end the wait at once. */
  readonly runner?: PodRunner;
}

/** Polls the run until `done` holds; fails with its last status and the step runner's errors. */
export async function waitForRun(kc: KubeConfig, ref: RunRef, done: (run: TektonRun) => boolean, options: WaitOptions = {}): Promise<TektonRun> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last: TektonRun | undefined;
  while (Date.now() < deadline) {
    const errors = options.runner?.errors ?? [];
    if (errors.length > 0) throw new Error(`supplying step outcomes failed: ${errors.map(String).join('; ')}`);
    last = await getRun(kc, ref.kind, ref.namespace, ref.name);
    if (done(last)) return last;
    await sleep(200);
  }
  throw new Error(`${ref.kind} ${ref.namespace}/${ref.name} did not reach the expected state in ${timeoutMs} ms; status: ${JSON.stringify(last?.status?.conditions)}; metadata: ${JSON.stringify(last?.metadata)}`);
}

/**
 * Plays the container runtime for every run's Pods in `namespace` until stopped: `handler`
 * says what each Pod's steps did (or undefined to leave it running).
 */
export function supplyOutcomes(env: TestEnv, namespace: string, handler: PodHandler): PodRunner {
  return new PodRunner(env.kubeConfig('admin'), namespace, handler).start();
}

export interface TaskThroughTekton {
  readonly namespace: string;
  /** A Task to apply first (its metadata is what Tekton propagates onto the TaskRun). */
  readonly task?: Manifest;
  readonly taskRun: Manifest;
  /** What the steps of each attempt's Pod did; undefined leaves that Pod running. */
  readonly outcomes: PodHandler;
  /** Wait for this instead of Tekton finishing the run (e.g. the operator's outcome as well). */
  readonly until?: (run: TektonRun) => boolean;
  readonly timeoutMs?: number;
}

/** Creates a Task and a TaskRun through real Tekton, supplies the step outcomes, and returns the TaskRun once done. */
export async function runTaskThroughTekton(env: TestEnv, run: TaskThroughTekton): Promise<TektonRun> {
  const admin = env.kubeConfig('admin');
  if (run.task) await applyObjects(admin, run.namespace, [run.task]);
  const runner = supplyOutcomes(env, run.namespace, run.outcomes);
  try {
    const created = await createRun(admin, run.namespace, run.taskRun);
    const ref = { kind: 'TaskRun', namespace: run.namespace, name: created.metadata.name } as const;
    return await waitForRun(admin, ref, run.until ?? isDone, { timeoutMs: run.timeoutMs ?? 60_000, runner });
  } finally {
    await runner.stop();
  }
}

/** The Pods Tekton created for a TaskRun (every attempt), oldest first. */
export async function podsOf(env: TestEnv, namespace: string, taskRun: string): Promise<V1Pod[]> {
  const pods = await env.kubeConfig('admin').makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: `tekton.dev/taskRun=${taskRun}` });
  return pods.items.sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)));
}

/** The value of an env var Tekton resolved into a step container (params reach scripts this way). */
export function stepEnv(pod: RunningPod, step: string, name: string): string | undefined {
  return pod.pod.spec?.containers.find((c) => c.name === `step-${step}`)?.env?.find((e) => e.name === name)?.value;
}

/** The in-toto statement inside a Sigstore bundle stored in (fake) GCS. */
export async function readStatement(env: TestEnv, bundleUri: string): Promise<Statement> {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(bundleUri);
  if (!match?.[1] || !match[2]) throw new Error(`not a gs:// URI: ${bundleUri}`);
  const [bytes] = await env.storageClient().bucket(match[1]).file(match[2]).download();
  const bundle = JSON.parse(bytes.toString()) as { dsseEnvelope: { payload: string } };
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as Statement;
}

/** Creates a fake-gcs-server bucket, or keeps the one that exists (a reused environment). */
export async function ensureBucket(env: TestEnv, name: string): Promise<void> {
  const res = await fetch(`${env.gcsEndpoint}/storage/v1/b?project=slsa-ml-test`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }),
  });
  if (!res.ok && res.status !== 409) throw new Error(`creating bucket ${name}: ${res.status} ${await res.text()}`);
}
