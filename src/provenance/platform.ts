// internalParameters: what the platform, not the tenant, decided for this run.
import { acceleratorFacts } from './accelerators.ts';
import { NODE_LABEL } from './constants.ts';
import { recordField, stringField, toJson } from './json.ts';
import type { JsonObject } from './json.ts';
import type { Node, Pod, TaskRun } from './kube.ts';
import type { ProvenanceSettings } from './types.ts';

export function internalParameters(taskRun: TaskRun, pod: Pod | undefined, node: Node | undefined, settings: ProvenanceSettings): JsonObject {
  const params: JsonObject = placementFacts(pod, node);
  const flags = recordField(recordField(taskRun.status, 'provenance'), 'featureFlags');
  // Same key as Tekton Chains uses for the same data.
  if (flags) params['tekton-pipelines-feature-flags'] = toJson(flags, 'status.provenance.featureFlags');
  if (settings.operatorConfig) params.operatorConfig = toJson(settings.operatorConfig, 'settings.operatorConfig');
  return params;
}

/** Where the run's Pod ran: its node (name, pool, machine type) and accelerators. */
export function placementFacts(pod: Pod | undefined, node: Node | undefined): JsonObject {
  const params: JsonObject = {};
  const nodeFacts = nodeFactsOf(pod, node);
  if (nodeFacts) params.node = nodeFacts;
  const accelerator = acceleratorFacts(pod, node);
  if (accelerator) params.accelerator = accelerator;
  return params;
}

function nodeFactsOf(pod: Pod | undefined, node: Node | undefined): JsonObject | undefined {
  const labels = recordField(node?.metadata, 'labels');
  const facts: JsonObject = {};
  const name = stringField(node?.metadata, 'name') ?? stringField(pod?.spec, 'nodeName');
  const nodePool = stringField(labels, NODE_LABEL.nodePool);
  const machineType = stringField(labels, NODE_LABEL.machineType);
  if (name !== undefined) facts.name = name;
  if (nodePool !== undefined) facts.nodePool = nodePool;
  if (machineType !== undefined) facts.machineType = machineType;
  return Object.keys(facts).length > 0 ? facts : undefined;
}
