// Accelerators the run got: the kind and shape from the Node's GKE labels, the count from the
// Pod's extended-resource requests (what the scheduler allocated). Either may be unknown.
import { ACCELERATOR_RESOURCE, NODE_LABEL } from './constants.ts';
import { ProvenanceError } from './errors.ts';
import type { JsonObject } from './json.ts';
import { arrayField, isRecord, recordField, stringField } from './json.ts';
import type { Node, Pod } from './kube.ts';

export function acceleratorFacts(pod: Pod | undefined, node: Node | undefined): JsonObject | undefined {
  const labels = recordField(node?.metadata, 'labels');
  const tpuCount = pod && podRequest(pod, ACCELERATOR_RESOURCE.tpu);
  const gpuCount = pod && podRequest(pod, ACCELERATOR_RESOURCE.gpu);
  const tpuType = stringField(labels, NODE_LABEL.tpu);
  const gpuType = stringField(labels, NODE_LABEL.gpu);
  if (tpuType !== undefined || (tpuCount ?? 0) > 0) {
    return compact({ kind: 'tpu', type: tpuType, topology: stringField(labels, NODE_LABEL.tpuTopology), count: tpuCount });
  }
  if (gpuType !== undefined || (gpuCount ?? 0) > 0) {
    return compact({ kind: 'gpu', type: gpuType, count: gpuCount });
  }
  return undefined;
}

function compact(fields: Record<string, string | number | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * The Pod's effective request of an extended resource, as the scheduler computes it: the larger of
 * the sum over containers and the largest init container. Extended resources may be given as a
 * limit only (the request then defaults to it).
 */
export function podRequest(pod: Pod, resource: string): number {
  const spec = pod.spec;
  const sum = arrayField(spec, 'containers').reduce<number>((total, c) => total + containerRequest(c, resource), 0);
  const init = arrayField(spec, 'initContainers').map((c) => containerRequest(c, resource));
  return Math.max(sum, ...init);
}

function containerRequest(container: unknown, resource: string): number {
  const resources = recordField(container, 'resources');
  const quantity = stringField(recordField(resources, 'requests'), resource) ?? stringField(recordField(resources, 'limits'), resource);
  if (quantity === undefined) return 0;
  return parseCount(quantity, isRecord(container) ? stringField(container, 'name') : undefined, resource);
}

/** Extended resources are whole numbers; Kubernetes accepts "2" and also "2000m". */
function parseCount(quantity: string, container: string | undefined, resource: string): number {
  const whole = /^\d+$/.test(quantity) ? Number(quantity) : undefined;
  const milli = /^\d+m$/.test(quantity) ? Number(quantity.slice(0, -1)) : undefined;
  if (whole !== undefined) return whole;
  if (milli !== undefined && milli % 1000 === 0) return milli / 1000;
  throw new ProvenanceError('BAD_QUANTITY', `container ${container ?? '?'}: ${resource} quantity ${JSON.stringify(quantity)} is not a whole number`);
}
