// The Pod and Node behind a TaskRun, read-only, for accelerator and node-pool facts. Their
// absence (deleted pod, no permission in a namespace) is not an error: provenance then omits them.
import { ApiException, CoreV1Api, type KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';

export class ClusterFacts {
  readonly #core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.#core = kc.makeApiClient(CoreV1Api);
  }

  async pod(namespace: string, name: string | undefined): Promise<V1Pod | undefined> {
    if (!name) return undefined;
    return absentAsUndefined(this.#core.readNamespacedPod({ namespace, name }));
  }

  async node(name: string | undefined): Promise<V1Node | undefined> {
    if (!name) return undefined;
    return absentAsUndefined(this.#core.readNode({ name }));
  }
}

async function absentAsUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ApiException && (err.code === 404 || err.code === 403)) return undefined;
    throw err;
  }
}
