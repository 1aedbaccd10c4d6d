// TaskRun and PipelineRun reads (always live, never from a cache) and our own metadata, written
// with server-side apply under our field manager so we never touch fields other actors own. One
// class for both kinds: they differ only in their collection and in what the reconciler makes of them.
import type { RunKind } from '../../src/provenance/index.ts';
import { ApiStatusError, type KubeApi } from './api.ts';

export type { RunKind };

export const FIELD_MANAGER = 'slsa-ml-operator';

const PLURAL: Record<RunKind, string> = { TaskRun: 'taskruns', PipelineRun: 'pipelineruns' };

/** A TaskRun or PipelineRun as the API returns it; the provenance builder converts what it reads. */
export interface TaskRun {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string;
    deletionTimestamp?: string | Date;
    creationTimestamp?: string | Date;
    finalizers?: string[];
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & { podName?: string; completionTime?: string; conditions?: Array<{ type: string; status: string; reason?: string }> };
}

/** The same shape: a PipelineRun's status adds childReferences, pipelineSpec and skippedTasks. */
export type TektonRun = TaskRun;

export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

/** The part of the run's metadata the operator owns. Fields left out are released. */
export interface OwnedMetadata {
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  finalizers?: string[];
}

/** The collection path of a kind: in one namespace, or across all of them. */
export function collectionPath(kind: RunKind, namespace?: string): string {
  return namespace === undefined
    ? `/apis/tekton.dev/v1/${PLURAL[kind]}`
    : `/apis/tekton.dev/v1/namespaces/${encodeURIComponent(namespace)}/${PLURAL[kind]}`;
}

/** The PipelineRun that controls a TaskRun (Tekton's controller ownerReference), if any. */
export function controllingPipelineRun(meta: { ownerReferences?: OwnerReference[] } | undefined): { name: string; uid: string } | undefined {
  const owner = meta?.ownerReferences?.find((ref) => ref.controller === true);
  if (owner?.kind !== 'PipelineRun' || !owner.apiVersion?.startsWith('tekton.dev/') || !owner.name || !owner.uid) return undefined;
  return { name: owner.name, uid: owner.uid };
}

export class TektonRuns {
  readonly kind: RunKind;
  readonly #api: KubeApi;

  constructor(api: KubeApi, kind: RunKind) {
    this.#api = api;
    this.kind = kind;
  }

  #path(namespace: string, name: string): string {
    return `${collectionPath(this.kind, namespace)}/${encodeURIComponent(name)}`;
  }

  /** The live run, or undefined when it no longer exists. */
  async get(namespace: string, name: string): Promise<TaskRun | undefined> {
    try {
      return await this.#api.request<TaskRun>({ method: 'GET', path: this.#path(namespace, name) });
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return undefined;
      throw err;
    }
  }

  /** Whether the run exists and matches `labelSelector` (the API server's own matching). */
  async matches(namespace: string, name: string, labelSelector: string): Promise<boolean> {
    const list = await this.#api.request<{ items?: unknown[] }>({
      method: 'GET',
      path: collectionPath(this.kind, namespace),
      query: { labelSelector, fieldSelector: `metadata.name=${name}` },
    });
    return (list.items ?? []).length > 0;
  }

  /**
   * Applies exactly the metadata we own. The uid precondition makes sure we never write onto a
   * different run that was re-created under the same name; `unchangedSince` (a resourceVersion)
   * makes the write fail with 409 when anyone changed the run since it was read, so an outcome is
   * never written blindly over one another installation recorded meanwhile. Returns the run's new
   * resourceVersion.
   */
  async applyMetadata(tr: TaskRun, owned: OwnedMetadata, unchangedSince?: string): Promise<string | undefined> {
    const updated = await this.#api.request<{ metadata?: { resourceVersion?: string } }>({
      method: 'PATCH',
      path: this.#path(tr.metadata.namespace, tr.metadata.name),
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
      // JSON is YAML: the apply patch type takes it as it is.
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: 'tekton.dev/v1', kind: this.kind, metadata: { name: tr.metadata.name, namespace: tr.metadata.namespace, uid: tr.metadata.uid, ...precondition(unchangedSince), ...owned } },
    });
    return updated?.metadata?.resourceVersion;
  }

  /**
   * Deletes annotation and label keys whoever wrote them (a merge patch; server-side apply can
   * only release fields our own manager owns). The uid makes it a precondition, as above.
   */
  async removeKeys(tr: TaskRun, keys: { annotations: readonly string[]; labels: readonly string[] }, unchangedSince?: string): Promise<string | undefined> {
    const nulls = (names: readonly string[]): Record<string, null> => Object.fromEntries(names.map((k) => [k, null]));
    const updated = await this.#api.request<{ metadata?: { resourceVersion?: string } }>({
      method: 'PATCH',
      path: this.#path(tr.metadata.namespace, tr.metadata.name),
      query: { fieldManager: FIELD_MANAGER },
      contentType: 'application/merge-patch+json',
      body: { apiVersion: 'tekton.dev/v1', kind: this.kind, metadata: { name: tr.metadata.name, namespace: tr.metadata.namespace, uid: tr.metadata.uid, ...precondition(unchangedSince), annotations: nulls(keys.annotations), labels: nulls(keys.labels) } },
    });
    return updated?.metadata?.resourceVersion;
  }
}

function precondition(resourceVersion: string | undefined): { resourceVersion?: string } {
  return resourceVersion === undefined ? {} : { resourceVersion };
}
