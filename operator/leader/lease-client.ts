// The three Lease calls leader election needs (get, create, update), each bounded by a timeout
// so a hung API server cannot stall the renew loop. A 409 (lost race: someone created or
// updated the Lease first) is an answer, not an error.
import { ApiStatusError, KubeApi, type ClusterAccess } from '../kube/index.ts';
import { LeaderElectionError } from './errors.ts';
import { recordFromSpec, specFromRecord, type LeaseRecord, type LeaseSpec } from './lease-record.ts';

export interface ObservedLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

export type WriteResult = ObservedLease | 'conflict';

interface Lease {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export class LeaseClient {
  readonly #api: KubeApi;
  readonly #namespace: string;
  readonly #name: string;
  readonly #timeoutMs: number;

  constructor(options: { kubeConfig: ClusterAccess; namespace: string; name: string; timeoutMs: number }) {
    this.#api = new KubeApi(options.kubeConfig, { requestMs: options.timeoutMs });
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The Lease, or undefined when it does not exist yet. */
  async get(): Promise<ObservedLease | undefined> {
    try {
      return observed(await this.#call({ method: 'GET', path: this.#path(this.#name) }));
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return undefined;
      throw apiError('reading', err);
    }
  }

  async create(record: LeaseRecord): Promise<WriteResult> {
    const body: Lease = { metadata: { name: this.#name, namespace: this.#namespace }, spec: specFromRecord(record) };
    return this.#write('creating', () => this.#call({ method: 'POST', path: this.#path(), body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...body } }));
  }

  /** Replaces the record if the Lease is still at `resourceVersion` (optimistic concurrency). */
  async update(record: LeaseRecord, resourceVersion: string): Promise<WriteResult> {
    const body: Lease = { metadata: { name: this.#name, namespace: this.#namespace, resourceVersion }, spec: specFromRecord(record) };
    return this.#write('updating', () => this.#call({ method: 'PUT', path: this.#path(this.#name), body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...body } }));
  }

  async #write(action: string, call: () => Promise<Lease>): Promise<WriteResult> {
    try {
      return observed(await call());
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 409) return 'conflict';
      throw apiError(action, err);
    }
  }

  /** The whole call, not only each silence, ends at the timeout. */
  #call(req: Parameters<KubeApi['request']>[0]): Promise<Lease> {
    return this.#api.request<Lease>(req, AbortSignal.timeout(this.#timeoutMs));
  }

  #path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }
}

function observed(lease: Lease): ObservedLease {
  return { record: recordFromSpec(lease.spec), resourceVersion: lease.metadata?.resourceVersion ?? '' };
}

function apiError(action: string, err: unknown): LeaderElectionError {
  const status = err instanceof ApiStatusError ? err.code : undefined;
  const reason = status === undefined ? (err as Error).message : `HTTP ${status}`;
  return new LeaderElectionError('LEASE_API', `${action} the Lease failed: ${reason}`, { cause: err, status });
}
