// Plays the container runtime for the Pods Tekton creates on the fake nodes: once kwok reports a
// Pod running and Tekton has released its first step (the tekton.dev/ready annotation its
// entrypoint waits for), it asks a handler what the steps did, and records that on the Pod
// (pod-outcome.ts) for kwok to finish it with. The handler is the test supplying outcomes, or
// the demo running the steps on this machine. A handler that answers undefined leaves the Pod
// running (a run that a test cancels or lets time out).
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { entrypointFlag, OUTCOME_ANNOTATION, podOutcome, stepContainers, type StepOutcomes } from './pod-outcome.ts';
import { PodPoller } from './pod-poller.ts';

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
  readonly #poller: PodPoller;
  readonly #handler: PodHandler;

  constructor(kc: KubeConfig, namespace: string, handler: PodHandler) {
    this.#handler = handler;
    this.#poller = new PodPoller(kc, { namespace, labelSelector: 'app.kubernetes.io/managed-by', ready: released, run: (pod) => this.#run(pod) });
  }

  start(): this {
    this.#poller.start();
    return this;
  }

  /** Errors from handlers or from recording outcomes; a test should assert there are none. */
  get errors(): readonly Error[] {
    return this.#poller.errors;
  }

  stop(): Promise<void> {
    return this.#poller.stop();
  }

  async #run(pod: V1Pod): Promise<void> {
    const outcomes = await this.#handler(describePod(pod));
    if (outcomes === undefined || this.#poller.stopped) return;
    const started = pod.status?.startTime ? new Date(pod.status.startTime) : new Date();
    await this.#poller.annotate(pod, { [OUTCOME_ANNOTATION]: JSON.stringify(podOutcome(pod, outcomes, started)) }, 'slsa-ml-pod-runner');
  }
}
