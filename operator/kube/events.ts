// Kubernetes Events on the TaskRun, so `kubectl describe taskrun` and the Dashboard show the outcome.
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { TaskRun } from './taskruns.ts';

export interface EventRecord {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export class EventRecorder {
  readonly #core: CoreV1Api;
  readonly #instance: string;

  constructor(kc: KubeConfig, instance: string) {
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#instance = instance;
  }

  /**
   * Creates the Event once: `id` names it, so recording the same outcome again (a retry after a
   * crash between the Event and the outcome) finds it already there.
   */
  async record(tr: TaskRun, event: EventRecord, id: string): Promise<void> {
    const now = new Date();
    await this.#core.createNamespacedEvent({
      namespace: tr.metadata.namespace,
      body: {
        metadata: { name: `${tr.metadata.name.slice(0, 200)}.${id}`, namespace: tr.metadata.namespace },
        involvedObject: { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: tr.metadata.name, namespace: tr.metadata.namespace, uid: tr.metadata.uid },
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
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    });
  }
}
