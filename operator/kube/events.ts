// Kubernetes Events on the TaskRun or PipelineRun, so `kubectl describe taskrun` and the Dashboard show the outcome.
import { ApiStatusError, type KubeApi } from './api.ts';
import type { TaskRun } from './runs.ts';

export interface EventRecord {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export class EventRecorder {
  readonly #api: KubeApi;
  readonly #instance: string;

  constructor(api: KubeApi, instance: string) {
    this.#api = api;
    this.#instance = instance;
  }

  /**
   * Creates the Event once: `id` names it, so recording the same outcome again (a retry after a
   * crash between the Event and the outcome) finds it already there.
   */
  async record(tr: TaskRun, event: EventRecord, id: string): Promise<void> {
    const now = new Date().toISOString();
    const namespace = tr.metadata.namespace;
    await this.#api.request({
      method: 'POST',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${tr.metadata.name.slice(0, 200)}.${id}`, namespace },
        involvedObject: { apiVersion: 'tekton.dev/v1', kind: tr.kind === 'PipelineRun' ? 'PipelineRun' : 'TaskRun', name: tr.metadata.name, namespace, uid: tr.metadata.uid },
        type: event.type,
        reason: event.reason,
        message: event.message.slice(0, 1024),
        source: { component: 'slsa-ml-operator' },
        reportingComponent: 'slsa-ml.dev/operator',
        reportingInstance: this.#instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    }).catch((err: unknown) => {
      if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
    });
  }
}
