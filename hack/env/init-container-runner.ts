// Plays the kubelet for one init container of the Pods a controller makes on the fake nodes (KServe's
// storage-initializer): once a Pod is bound to a node, it asks a handler to run that container
// (the test runs its command on this machine), and records the result on the Pod for kwok
// (kwok-stages.yaml): `kwok.slsa-ml.dev/initialized: "true"` lets pod-start run the Pod;
// `kwok.slsa-ml.dev/init-failure` (the container, exit code, termination message, times) makes
// pod-init-failed leave it Pending with that container terminated in Error, as a kubelet reports a
// failed init container. A kubelet would then retry it with back-off; the first failure is what
// every reader (KServe's controller, kubectl describe) sees either way.
import type { KubeConfig, V1Container, V1Pod } from '@kubernetes/client-node';
import { PodPoller } from './pod-poller.ts';

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
  readonly #poller: PodPoller;
  readonly #container: string;
  readonly #handler: InitHandler;

  constructor(kc: KubeConfig, options: { namespace: string; container: string; labelSelector: string; handler: InitHandler }) {
    this.#container = options.container;
    this.#handler = options.handler;
    this.#poller = new PodPoller(kc, {
      namespace: options.namespace, labelSelector: options.labelSelector,
      ready: (pod) => this.#pending(pod) !== undefined,
      run: (pod) => this.#run(pod, this.#pending(pod) as V1Container),
    });
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

  /** The init container to run: the Pod is bound to a node, Pending, and not yet reported on. */
  #pending(pod: V1Pod): V1Container | undefined {
    const annotations = pod.metadata?.annotations ?? {};
    if (!pod.spec?.nodeName || pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Pending') return undefined;
    if (annotations[INITIALIZED_ANNOTATION] !== undefined || annotations[INIT_FAILURE_ANNOTATION] !== undefined) return undefined;
    return pod.spec.initContainers?.find((c) => c.name === this.#container);
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
    await this.#poller.annotate(pod, annotations, 'slsa-ml-init-runner');
  }
}
