// TaskRun reads (always live, never from a cache) and our own metadata, written with
// server-side apply under our field manager so we never touch fields other actors own.
import { ApiException, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

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

export class TaskRuns {
  readonly #custom: CustomObjectsApi;
  readonly #objects: KubernetesObjectApi;

  constructor(kc: KubeConfig) {
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#objects = KubernetesObjectApi.makeApiClient(kc);
  }

  /** The live TaskRun, or undefined when it no longer exists. */
  async get(namespace: string, name: string): Promise<TaskRun | undefined> {
    try {
      return (await this.#custom.getNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace, name })) as TaskRun;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  /**
   * Applies exactly the metadata we own. The uid precondition makes sure we never write onto a
   * different TaskRun that was re-created under the same name.
   */
  async applyMetadata(tr: TaskRun, owned: OwnedMetadata): Promise<void> {
    const body = {
      apiVersion: 'tekton.dev/v1',
      kind: 'TaskRun',
      metadata: { name: tr.metadata.name, namespace: tr.metadata.namespace, uid: tr.metadata.uid, ...owned },
    } as KubernetesObject;
    await this.#objects.patch(body, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  /**
   * Deletes annotation and label keys whoever wrote them (a merge patch; server-side apply can
   * only release fields our own manager owns). The uid makes it a precondition, as above.
   */
  async removeKeys(tr: TaskRun, keys: { annotations: readonly string[]; labels: readonly string[] }): Promise<void> {
    const nulls = (names: readonly string[]): Record<string, null> => Object.fromEntries(names.map((k) => [k, null]));
    const body = {
      apiVersion: 'tekton.dev/v1',
      kind: 'TaskRun',
      metadata: { name: tr.metadata.name, namespace: tr.metadata.namespace, uid: tr.metadata.uid, annotations: nulls(keys.annotations), labels: nulls(keys.labels) },
    } as unknown as KubernetesObject;
    await this.#objects.patch(body, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
  }
}
