// Plays the kubelet for one init container of the Pods a controller makes on the fake nodes (KServe's
// storage-initializer): once a Pod is bound to a node, it asks a handler to run that container
// (the test runs its command on this machine), and records the result on the Pod for kwok
// (kwok-stages.yaml): `kwok.slsa-ml.dev/initialized: "true"` lets pod-start run the Pod;
// `kwok.slsa-ml.dev/init-failure` (the container, exit code, termination message, times) makes
// pod-init-failed leave it Pending with that container terminated in Error, as a kubelet reports a
// failed init container. A kubelet would then retry it with back-off; the first failure is what
// every reader (KServe's controller, kubectl describe) sees either way.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type V1Container, type V1Pod } from '@kubernetes/client-node';

export const INITIALIZED_ANNOTATION = 'kwok.slsa-ml.dev/initialized';
export const INIT_FAILURE_ANNOTATION = 'kwok.slsa-ml.dev/init-failure';

export interface InitOutcome {
  readonly exitCode: number;
  /** What the container wrote to its termination message path (trimmed as the kubelet would keep it). */
  readonly message: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

export type InitHandler = (pod: V1Pod, container: V1Container) => Promise<InitOutcome>;

/** The kubelet keeps at most 4096 bytes of a termination message. */
const MAX_MESSAGE = 4096;

export class InitContainerRunner {
  readonly #core: CoreV1Api;
  readonly #objects: KubernetesObjectApi;
  readonly #namespace: string;
  readonly #container: string;
  readonly #labelSelector: string;
  readonly #handler: InitHandler;
  readonly #seen = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #errors: Error[] = [];
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(kc: KubeConfig, options: { namespace: string; container: string; labelSelector: string; handler: InitHandler }) {
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#objects = KubernetesObjectApi.makeApiClient(kc);
    this.#namespace = options.namespace;
    this.#container = options.container;
    this.#labelSelector = options.labelSelector;
    this.#handler = options.handler;
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

  #pending(pod: V1Pod): V1Container | undefined {
    const annotations = pod.metadata?.annotations ?? {};
    if (!pod.spec?.nodeName || pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Pending') return undefined;
    if (annotations[INITIALIZED_ANNOTATION] !== undefined || annotations[INIT_FAILURE_ANNOTATION] !== undefined) return undefined;
    return pod.spec.initContainers?.find((c) => c.name === this.#container);
  }

  async #poll(): Promise<void> {
    while (!this.#stopped) {
      try {
        const pods = await this.#core.listNamespacedPod({ namespace: this.#namespace, labelSelector: this.#labelSelector });
        for (const pod of pods.items) {
          const uid = pod.metadata?.uid ?? '';
          const container = this.#pending(pod);
          if (this.#seen.has(uid) || !container) continue;
          this.#seen.add(uid);
          const run = this.#run(pod, container).catch((err: unknown) => { this.#errors.push(err instanceof Error ? err : new Error(String(err))); });
          this.#inFlight.add(run);
          void run.finally(() => this.#inFlight.delete(run));
        }
      } catch (err) {
        if (!this.#stopped) this.#errors.push(new Error(`listing Pods in ${this.#namespace}: ${String(err)}`));
      }
      await sleep(150);
    }
  }

  async #run(pod: V1Pod, container: V1Container): Promise<void> {
    const outcome = await this.#handler(pod, container);
    const annotations: Record<string, string> = outcome.exitCode === 0
      ? { [INITIALIZED_ANNOTATION]: 'true' }
      : { [INIT_FAILURE_ANNOTATION]: JSON.stringify({
        container: container.name,
        exitCode: outcome.exitCode,
        message: outcome.message.slice(0, MAX_MESSAGE),
        startedAt: outcome.startedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
        finishedAt: outcome.finishedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
      }) };
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata?.name, namespace: this.#namespace, annotations } };
    try {
      await this.#objects.patch(body, undefined, undefined, 'slsa-ml-init-runner', undefined, PatchStrategy.MergePatch);
    } catch (err) {
      // Deleted meanwhile (the Deployment scaled down or replaced): nothing left to report.
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
}
