// @kubernetes/client-node 2.x builds a new undici Agent for every API request, so every call
// pays a fresh TCP+TLS handshake and leaves a keep-alive socket behind (measured: most of the
// operator's CPU in a burst, and hundreds of MB of RSS). This KubeConfig hands every request of
// one cluster+user the same Agent, so connections are pooled and reused — and gives every
// request a deadline: undici's defaults wait 300 s for headers and 300 s between body chunks,
// and a hung API server would hold a worker that long for each call.
import { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;
type Interceptor = Parameters<Dispatcher['compose']>[0] extends infer I ? (I extends readonly unknown[] ? I[number] : I) : never;

export interface KubeTimeouts {
  /** Longest wait for response headers, and for each further chunk of a body (watches resume on their own). */
  readonly requestMs: number;
}

export class PooledKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();
  readonly #timeouts: KubeTimeouts | undefined;

  constructor(timeouts?: KubeTimeouts) {
    super();
    this.#timeouts = timeouts;
  }

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
      const dispatcher = this.#timeouts ? fresh.compose(withTimeouts(this.#timeouts.requestMs)) : fresh;
      this.#dispatchers.set(key, dispatcher);
      context.setDispatcher(dispatcher);
    }
  }
}

/** Sets undici's per-request header and body-inactivity timeouts on every request. */
function withTimeouts(ms: number): Interceptor {
  return ((dispatch: Dispatcher['dispatch']) => (options: Parameters<Dispatcher['dispatch']>[0], handler: Parameters<Dispatcher['dispatch']>[1]) =>
    dispatch({ ...options, headersTimeout: ms, bodyTimeout: ms }, handler));
}

/** Kubeconfig from $KUBECONFIG / ~/.kube/config, or the in-cluster ServiceAccount. */
export function loadKubeConfig(timeouts?: KubeTimeouts): KubeConfig {
  const kc = new PooledKubeConfig(timeouts);
  kc.loadFromDefault();
  return kc;
}
