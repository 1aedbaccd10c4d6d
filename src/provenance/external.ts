// externalParameters: everything the tenant controlled. The whole TaskRun spec is recorded (task
// reference or inline spec, params, workspaces, service account, pod template with node selector
// and tolerations, compute resources and step/sidecar overrides incl. accelerator requests), so a
// verifier can compare it with what it expects; it is the same "runSpec" Tekton Chains records.
// For a Task fetched by a remote resolver, `buildConfigSource` names where Tekton resolved it from,
// as Chains writes it: {repository, ref: "<alg>:<hex>", path}, from status.provenance.refSource.
import { ProvenanceError } from './errors.ts';
import { isRecord, recordField, stringField, toJson } from './json.ts';
import type { JsonObject } from './json.ts';
import type { TaskRun } from './kube.ts';

/** Which run: a TaskRun (its definition in spec.taskRef) or a PipelineRun (spec.pipelineRef). */
export type RunKind = 'TaskRun' | 'PipelineRun';

export function externalParameters(taskRun: TaskRun, kind: RunKind = 'TaskRun'): JsonObject {
  const name = stringField(taskRun.metadata, 'name');
  const namespace = stringField(taskRun.metadata, 'namespace');
  if (!name || !namespace || !isRecord(taskRun.spec)) {
    throw new ProvenanceError('BAD_TASKRUN', `a ${kind} needs metadata.name, metadata.namespace and a spec`);
  }
  const params: JsonObject = { name, namespace, runSpec: toJson(taskRun.spec, 'spec') };
  const source = buildConfigSource(taskRun, kind === 'TaskRun' ? 'taskRef' : 'pipelineRef');
  if (source) params.buildConfigSource = source;
  return params;
}

// Chains: only for a taskRef/pipelineRef with a resolver other than "Cluster", and only with a refSource.
function buildConfigSource(taskRun: TaskRun, refField: 'taskRef' | 'pipelineRef'): JsonObject | undefined {
  const resolver = stringField(recordField(taskRun.spec, refField), 'resolver');
  const ref = recordField(recordField(taskRun.status, 'provenance'), 'refSource');
  if (!resolver || resolver === 'Cluster' || ref === undefined) return undefined;
  const digest = recordField(ref, 'digest') ?? {};
  // Chains takes any one entry of the digest map; the sorted first makes the choice stable.
  const algorithm = Object.keys(digest).sort()[0];
  const hex = algorithm === undefined ? undefined : stringField(digest, algorithm);
  return { repository: stringField(ref, 'uri') ?? '', ref: hex === undefined ? '' : `${algorithm ?? ''}:${hex}`, path: stringField(ref, 'entryPoint') ?? '' };
}
