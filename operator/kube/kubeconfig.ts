// @kubernetes/client-node 2.x builds a new undici Agent for every API request, so every call
// pays a fresh TCP+TLS handshake and leaves a keep-alive socket behind (measured: most of the
// operator's CPU in a burst, and hundreds of MB of RSS). This KubeConfig hands every request of
// one cluster+user the same Agent, so connections are pooled and reused.
import { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export class PooledKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    const key = JSON.stringify([this.getCurrentCluster()?.name ?? '', this.getCurrentUser()?.name ?? '']);
    const pooled = this.#dispatchers.get(key);
    if (pooled) {
      context.setDispatcher(pooled);
      // The per-request Agent never connected; release it rather than wait for GC.
      void fresh.close().catch(() => undefined);
    } else {
      this.#dispatchers.set(key, fresh);
    }
  }
}

/** Kubeconfig from $KUBECONFIG / ~/.kube/config, or the in-cluster ServiceAccount. */
export function loadKubeConfig(): KubeConfig {
  const kc = new PooledKubeConfig();
  kc.loadFromDefault();
  return kc;
}
