// externalParameters: everything the tenant controlled. The whole TaskRun spec is recorded (task
// reference or inline spec, params, workspaces, service account, pod template with node selector
// and tolerations, compute resources and step/sidecar overrides incl. accelerator requests), so a
// verifier can compare it with what it expects; it is the same "runSpec" Tekton Chains records.
import { ProvenanceError } from './errors.ts';
import { isRecord, stringField, toJson } from './json.ts';
import type { JsonObject } from './json.ts';
import type { TaskRun } from './kube.ts';

export function externalParameters(taskRun: TaskRun): JsonObject {
  const name = stringField(taskRun.metadata, 'name');
  const namespace = stringField(taskRun.metadata, 'namespace');
  if (!name || !namespace || !isRecord(taskRun.spec)) {
    throw new ProvenanceError('BAD_TASKRUN', 'a TaskRun needs metadata.name, metadata.namespace and a spec');
  }
  return { name, namespace, runSpec: toJson(taskRun.spec, 'spec') };
}
