// The Pod and Node behind a TaskRun, read-only, for accelerator and node-pool facts. Their
// absence (deleted pod, no permission in a namespace) is not an error: provenance then omits them.
import type { Node, Pod } from '../../src/provenance/index.ts';
import { ApiStatusError, type KubeApi } from './api.ts';

/**
 * How long a Node's facts are reused. Only the platform writes Nodes (a tenant cannot), and the
 * labels the provenance records — node pool, machine type, accelerator type and TPU topology — are
 * fixed for a node's life on GKE (changing them recreates the nodes). The read happens after the
 * run has ended anyway, so a minute's reuse records nothing less true than a fresh read would,
 * and saves one API call per attestation: a node hosts many runs.
 */
export const NODE_TTL_MS = 60_000;
/** Enough for the largest clusters; the oldest entry goes first. */
const MAX_NODES = 5_000;

export class ClusterFacts {
  readonly #api: KubeApi;
  readonly #nodes = new Map<string, { node: Node; at: number }>();
  readonly #now: () => number;

  constructor(api: KubeApi, now: () => number = Date.now) {
    this.#api = api;
    this.#now = now;
  }

  async pod(namespace: string, name: string | undefined): Promise<Pod | undefined> {
    if (!name) return undefined;
    return absentAsUndefined(this.#api.request<Pod>({ method: 'GET', path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}` }));
  }

  /** The Node's name and labels (all the provenance reads of it), read at most once per NODE_TTL_MS. */
  async node(name: string | undefined): Promise<Node | undefined> {
    if (!name) return undefined;
    const cached = this.#nodes.get(name);
    if (cached && this.#now() - cached.at < NODE_TTL_MS) return cached.node;
    const read = await absentAsUndefined(this.#api.request<Node>({ method: 'GET', path: `/api/v1/nodes/${encodeURIComponent(name)}` }));
    this.#nodes.delete(name);
    if (!read) return undefined;
    // Only what is recorded is kept: a Node's status (images, conditions) is most of its bytes.
    const node: Node = { metadata: { ...(read.metadata?.name ? { name: read.metadata.name } : {}), ...(read.metadata?.labels ? { labels: read.metadata.labels } : {}) } };
    if (this.#nodes.size >= MAX_NODES) this.#nodes.delete(this.#nodes.keys().next().value as string);
    this.#nodes.set(name, { node, at: this.#now() });
    return node;
  }
}

async function absentAsUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ApiStatusError && (err.code === 404 || err.code === 403)) return undefined;
    throw err;
  }
}
