// The loop the kubelet stand-ins share: list a namespace's Pods (a label selector) every 150 ms, hand
// each Pod once to `run` when `ready` says it is its turn, and keep the errors for the test to
// assert on. Polling, not a watch: a handful of Pods per test, and nothing to resume.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

export class PodPoller {
  readonly #core: CoreV1Api;
  readonly #objects: KubernetesObjectApi;
  readonly #namespace: string;
  readonly #labelSelector: string;
  readonly #ready: (pod: V1Pod) => boolean;
  readonly #run: (pod: V1Pod) => Promise<void>;
  readonly #seen = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #errors: Error[] = [];
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(kc: KubeConfig, options: { namespace: string; labelSelector: string; ready: (pod: V1Pod) => boolean; run: (pod: V1Pod) => Promise<void> }) {
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#objects = KubernetesObjectApi.makeApiClient(kc);
    this.#namespace = options.namespace;
    this.#labelSelector = options.labelSelector;
    this.#ready = options.ready;
    this.#run = options.run;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  get errors(): readonly Error[] {
    return this.#errors;
  }

  start(): void {
    this.#loop ??= this.#poll();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  /** Merges `annotations` into the Pod's; a Pod deleted meanwhile has nothing left to report. */
  async annotate(pod: V1Pod, annotations: Record<string, string>, fieldManager: string): Promise<void> {
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata?.name, namespace: this.#namespace, annotations } };
    try {
      await this.#objects.patch(body, undefined, undefined, fieldManager, undefined, PatchStrategy.MergePatch);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }

  async #poll(): Promise<void> {
    while (!this.#stopped) {
      try {
        const pods = await this.#core.listNamespacedPod({ namespace: this.#namespace, labelSelector: this.#labelSelector });
        for (const pod of pods.items) {
          const uid = pod.metadata?.uid ?? '';
          if (this.#seen.has(uid) || !this.#ready(pod)) continue;
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
}
