// What attest needs from a TaskRun or PipelineRun before it measures anything: the v1 API shape
// the provenance builder reads, a UID to record as the invocation, and a run that finished
// successfully.
import type { PipelineRun, TaskRun } from '../../provenance/index.ts';
import { InputError } from '../errors.ts';
import { isRecord, type KubeObject } from './kube-file.ts';

export function checkTaskRun(object: KubeObject, where: string): TaskRun {
  checkSaved(object, where, 'TaskRun');
  const state = succeededState(object);
  if (state !== undefined) throw new InputError('TASKRUN_NOT_SUCCEEDED', `${where}: the TaskRun ${state}; only a run that succeeded is attested`);
  return object;
}

export function checkPipelineRun(object: KubeObject, where: string): PipelineRun {
  checkSaved(object, where, 'PipelineRun');
  const state = succeededState(object);
  if (state !== undefined) throw new InputError('PIPELINERUN_NOT_SUCCEEDED', `${where}: the PipelineRun ${state}; only a run that succeeded is attested`);
  return object;
}

/**
 * A child TaskRun of a PipelineRun that succeeded: saved from the cluster and finished. A task
 * may have failed without failing the PipelineRun (onError: continue); the statement records
 * each task's outcome, so only a run still going is refused.
 */
export function checkChildTaskRun(object: KubeObject, where: string): TaskRun {
  checkSaved(object, where, 'TaskRun');
  const succeeded = conditions(object).find((c) => c.type === 'Succeeded');
  if (succeeded?.status !== 'True' && succeeded?.status !== 'False') {
    throw new InputError('TASKRUN_NOT_FINISHED', `${where}: the TaskRun ${stateOf(succeeded)}, but its PipelineRun succeeded: save the TaskRuns again`);
  }
  return object;
}

function checkSaved(object: KubeObject, where: string, kind: 'TaskRun' | 'PipelineRun'): void {
  const code = kind === 'TaskRun' ? 'BAD_TASKRUN' : 'BAD_PIPELINERUN';
  const resource = kind === 'TaskRun' ? 'taskruns' : 'pipelineruns';
  if (object.apiVersion !== 'tekton.dev/v1') {
    throw new InputError(code, `${where}: apiVersion is ${JSON.stringify(object.apiVersion)}, want tekton.dev/v1 (kubectl get ${resource}.v1.tekton.dev NAME -o yaml)`);
  }
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  if (typeof metadata.uid !== 'string' || metadata.uid === '') {
    throw new InputError(code, `${where}: metadata.uid is missing; save the ${kind} from the cluster, not its manifest`);
  }
}

/** Undefined when the run succeeded; otherwise what it is instead. */
function succeededState(object: KubeObject): string | undefined {
  const succeeded = conditions(object).find((c) => c.type === 'Succeeded');
  return succeeded?.status === 'True' ? undefined : stateOf(succeeded);
}

function stateOf(succeeded: Record<string, unknown> | undefined): string {
  if (succeeded === undefined) return 'has no Succeeded condition';
  return `is Succeeded=${String(succeeded.status)} (${typeof succeeded.reason === 'string' ? succeeded.reason : 'no reason'})`;
}

function conditions(object: KubeObject): Array<Record<string, unknown>> {
  const status = isRecord(object.status) ? object.status : {};
  return Array.isArray(status.conditions) ? status.conditions.filter(isRecord) : [];
}
