// Plays the container runtime for the Pods Tekton creates on the fake nodes: once kwok reports a
// Pod running and Tekton has released its first step (the tekton.dev/ready annotation its
// entrypoint waits for), it asks a handler what the steps did, and records that on the Pod
// (pod-outcome.ts) for kwok to finish it with. The handler is the test supplying outcomes, or
// the demo running the steps on this machine. A handler that answers undefined leaves the Pod
// running (a run that a test cancels or lets time out).
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { entrypointFlag, OUTCOME_ANNOTATION, podOutcome, stepContainers, type StepOutcomes } from './pod-outcome.ts';

const READY_ANNOTATION = 'tekton.dev/ready';

export interface RunningPod {
  readonly pod: V1Pod;
  readonly name: string;
  readonly namespace: string;
  readonly taskRun: string | undefined;
  readonly pipelineRun: string | undefined;
  readonly pipelineTask: string | undefined;
  /** 0 for the first Pod of a TaskRun, n for the Pod of its n-th retry. */
  readonly attempt: number;
  /** Step names in order (`train` for container `step-train`). */
  readonly steps: readonly string[];
}

export type PodHandler = (pod: RunningPod) => Promise<StepOutcomes | undefined> | StepOutcomes | undefined;

export function describePod(pod: V1Pod): RunningPod {
  const labels = pod.metadata?.labels ?? {};
  const name = pod.metadata?.name ?? '';
  return {
    pod,
    name,
    namespace: pod.metadata?.namespace ?? '',
    taskRun: labels['tekton.dev/taskRun'],
    pipelineRun: labels['tekton.dev/pipelineRun'],
    pipelineTask: labels['tekton.dev/pipelineTask'],
    attempt: Number(/-retry(\d+)$/.exec(name)?.[1] ?? 0),
    steps: stepContainers(pod).map((c) => c.name.slice('step-'.length)),
  };
}

/** Whether the first step would have started: the Pod runs and, if it waits for it, Tekton has marked it ready. */
function released(pod: V1Pod): boolean {
  const annotations = pod.metadata?.annotations ?? {};
  const running = pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp && annotations[OUTCOME_ANNOTATION] === undefined;
  return running && (!waitsForReady(pod) || annotations[READY_ANNOTATION] === 'READY');
}

function waitsForReady(pod: V1Pod): boolean {
  const first = stepContainers(pod)[0];
  return first !== undefined && (entrypointFlag(first, 'wait_file') ?? '').startsWith('/tekton/downward/');
}

export class PodRunner {
  readonly #core: CoreV1Api;
  readonly #objects: KubernetesObjectApi;
  readonly #namespace: string;
  readonly #handler: PodHandler;
  readonly #seen = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #errors: Error[] = [];
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(kc: KubeConfig, namespace: string, handler: PodHandler) {
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#objects = KubernetesObjectApi.makeApiClient(kc);
    this.#namespace = namespace;
    this.#handler = handler;
  }

  start(): this {
    this.#loop ??= this.#poll();
    return this;
  }

  /** Errors from handlers or from recording outcomes; a test should assert there are none. */
  get errors(): readonly Error[] {
    return this.#errors;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #poll(): Promise<void> {
    while (!this.#stopped) {
      try {
        const pods = await this.#core.listNamespacedPod({ namespace: this.#namespace, labelSelector: 'app.kubernetes.io/managed-by' });
        for (const pod of pods.items) {
          const uid = pod.metadata?.uid ?? '';
          if (this.#seen.has(uid) || !released(pod)) continue;
          this.#seen.add(uid);
          const run = this.#run(pod).catch((err: unknown) => { this.#errors.push(err instanceof Error ? err : new Error(String(err))); });
          this.#inFlight.add(run);
          void run.finally(() => this.#inFlight.delete(run));
        }
      } catch (err) {
        if (!this.#stopped) this.#errors.push(new Error(`listing Pods in ${this.#namespace}: ${String(err)}`));
      }
      await sleep(150);
    }
  }

  async #run(pod: V1Pod): Promise<void> {
    const outcomes = await this.#handler(describePod(pod));
    if (outcomes === undefined || this.#stopped) return;
    const started = pod.status?.startTime ? new Date(pod.status.startTime) : new Date();
    const outcome = podOutcome(pod, outcomes, started);
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata?.name, namespace: this.#namespace, annotations: { [OUTCOME_ANNOTATION]: JSON.stringify(outcome) } } };
    try {
      await this.#objects.patch(body, undefined, undefined, 'slsa-ml-pod-runner', undefined, PatchStrategy.MergePatch);
    } catch (err) {
      // Deleted meanwhile (a cancelled or timed-out run): nothing left to report.
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
}
