// TaskRun reads (always live, never from a cache) and our own metadata, written with
// server-side apply under our field manager so we never touch fields other actors own.
import { ApiStatusError, type KubeApi } from './api.ts';

export const FIELD_MANAGER = 'slsa-ml-operator';

/** The TaskRun as the API returns it; the provenance builder converts what it reads. */
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
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & { podName?: string; completionTime?: string; conditions?: Array<{ type: string; status: string; reason?: string }> };
}

/** The part of the TaskRun's metadata the operator owns. Fields left out are released. */
export interface OwnedMetadata {
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  finalizers?: string[];
}

const path = (namespace: string, name: string): string =>
  `/apis/tekton.dev/v1/namespaces/${encodeURIComponent(namespace)}/taskruns/${encodeURIComponent(name)}`;

export class TaskRuns {
  readonly #api: KubeApi;

  constructor(api: KubeApi) {
    this.#api = api;
  }

  /** The live TaskRun, or undefined when it no longer exists. */
  async get(namespace: string, name: string): Promise<TaskRun | undefined> {
    try {
      return await this.#api.request<TaskRun>({ method: 'GET', path: path(namespace, name) });
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return undefined;
      throw err;
    }
  }

  /**
   * Applies exactly the metadata we own. The uid precondition makes sure we never write onto a
   * different TaskRun that was re-created under the same name.
   */
  async applyMetadata(tr: TaskRun, owned: OwnedMetadata): Promise<void> {
    await this.#api.request({
      method: 'PATCH',
      path: path(tr.metadata.namespace, tr.metadata.name),
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
      // JSON is YAML: the apply patch type takes it as it is.
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: tr.metadata.name, namespace: tr.metadata.namespace, uid: tr.metadata.uid, ...owned } },
    });
  }

  /**
   * Deletes annotation and label keys whoever wrote them (a merge patch; server-side apply can
   * only release fields our own manager owns). The uid makes it a precondition, as above.
   */
  async removeKeys(tr: TaskRun, keys: { annotations: readonly string[]; labels: readonly string[] }): Promise<void> {
    const nulls = (names: readonly string[]): Record<string, null> => Object.fromEntries(names.map((k) => [k, null]));
    await this.#api.request({
      method: 'PATCH',
      path: path(tr.metadata.namespace, tr.metadata.name),
      query: { fieldManager: FIELD_MANAGER },
      contentType: 'application/merge-patch+json',
      body: { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: tr.metadata.name, namespace: tr.metadata.namespace, uid: tr.metadata.uid, annotations: nulls(keys.annotations), labels: nulls(keys.labels) } },
    });
  }
}
