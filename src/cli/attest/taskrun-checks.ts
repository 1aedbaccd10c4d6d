// What attest needs from a TaskRun before it measures anything: the v1 API shape the provenance
// builder reads, a UID to record as the invocation, and a run that finished successfully.
import type { TaskRun } from '../../provenance/index.ts';
import { InputError } from '../errors.ts';
import { isRecord, type KubeObject } from './kube-file.ts';

export function checkTaskRun(object: KubeObject, where: string): TaskRun {
  if (object.apiVersion !== 'tekton.dev/v1') {
    throw new InputError('BAD_TASKRUN',
      `${where}: apiVersion is ${JSON.stringify(object.apiVersion)}, want tekton.dev/v1 (kubectl get taskruns.v1.tekton.dev NAME -o yaml)`);
  }
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  if (typeof metadata.uid !== 'string' || metadata.uid === '') {
    throw new InputError('BAD_TASKRUN', `${where}: metadata.uid is missing; save the TaskRun from the cluster, not its manifest`);
  }
  const succeeded = conditions(object).find((c) => c.type === 'Succeeded');
  if (succeeded?.status !== 'True') {
    const state = succeeded === undefined ? 'has no Succeeded condition' : `is Succeeded=${String(succeeded.status)} (${typeof succeeded.reason === 'string' ? succeeded.reason : 'no reason'})`;
    throw new InputError('TASKRUN_NOT_SUCCEEDED', `${where}: the TaskRun ${state}; only a run that succeeded is attested`);
  }
  return object;
}

function conditions(object: KubeObject): Array<Record<string, unknown>> {
  const status = isRecord(object.status) ? object.status : {};
  return Array.isArray(status.conditions) ? status.conditions.filter(isRecord) : [];
}
