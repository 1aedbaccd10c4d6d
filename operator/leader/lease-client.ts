// The three Lease calls leader election needs (get, create, update), each bounded by a timeout
// so a hung API server cannot stall the renew loop. A 409 (lost race: someone created or
// updated the Lease first) is an answer, not an error.
import {
  ApiException,
  CoordinationV1Api,
  Observable,
  type ConfigurationOptions,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';
import { LeaderElectionError } from './errors.ts';
import { recordFromSpec, specFromRecord, type LeaseRecord } from './lease-record.ts';

export interface ObservedLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

export type WriteResult = ObservedLease | 'conflict';

export class LeaseClient {
  readonly #api: CoordinationV1Api;
  readonly #namespace: string;
  readonly #name: string;
  readonly #timeoutMs: number;

  constructor(options: { kubeConfig: KubeConfig; namespace: string; name: string; timeoutMs: number }) {
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The Lease, or undefined when it does not exist yet. */
  async get(): Promise<ObservedLease | undefined> {
    try {
      return observed(await this.#api.readNamespacedLease({ name: this.#name, namespace: this.#namespace }, this.#options()));
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw apiError('reading', err);
    }
  }

  async create(record: LeaseRecord): Promise<WriteResult> {
    const body: V1Lease = { metadata: { name: this.#name, namespace: this.#namespace }, spec: specFromRecord(record) };
    return this.#write('creating', () => this.#api.createNamespacedLease({ namespace: this.#namespace, body }, this.#options()));
  }

  /** Replaces the record if the Lease is still at `resourceVersion` (optimistic concurrency). */
  async update(record: LeaseRecord, resourceVersion: string): Promise<WriteResult> {
    const body: V1Lease = {
      metadata: { name: this.#name, namespace: this.#namespace, resourceVersion },
      spec: specFromRecord(record),
    };
    return this.#write('updating', () =>
      this.#api.replaceNamespacedLease({ name: this.#name, namespace: this.#namespace, body }, this.#options()),
    );
  }

  async #write(action: string, call: () => Promise<V1Lease>): Promise<WriteResult> {
    try {
      return observed(await call());
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) return 'conflict';
      throw apiError(action, err);
    }
  }

  #options(): ConfigurationOptions {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    return {
      middleware: [
        {
          pre: (request) => {
            request.setSignal(signal);
            return new Observable(Promise.resolve(request));
          },
          post: (response) => new Observable(Promise.resolve(response)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }
}

function observed(lease: V1Lease): ObservedLease {
  return { record: recordFromSpec(lease.spec), resourceVersion: lease.metadata?.resourceVersion ?? '' };
}

function apiError(action: string, err: unknown): LeaderElectionError {
  const status = err instanceof ApiException ? err.code : undefined;
  const reason = status === undefined ? (err as Error).message : `HTTP ${status}`;
  return new LeaderElectionError('LEASE_API', `${action} the Lease failed: ${reason}`, { cause: err, status });
}
