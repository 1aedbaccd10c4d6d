// Fake nodes shaped like GKE Standard node pools: the labels GKE puts on its nodes, the machine
// types' capacity, allocatable as GKE reserves it, and GKE's accelerator taints. kwok (kwok.ts)
// makes them Ready and runs the Pods bound to them; the real scheduler picks among them.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';

export const CLUSTER = 'slsa-ml-local';
const REGION = 'us-central1';
/** kwok manages only nodes carrying this annotation (its default selector). */
export const KWOK_NODE_ANNOTATION = { 'kwok.x-k8s.io/node': 'fake' } as const;

export interface NodePool {
  readonly name: string;
  readonly machineType: string;
  readonly zone: string;
  readonly nodes: number;
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly accelerator?: { readonly resource: string; readonly count: number };
  readonly taints: ReadonlyArray<{ key: string; value: string; effect: string }>;
}

export const NODE_POOLS: readonly NodePool[] = [
  { name: 'cpu-pool', machineType: 'e2-standard-8', zone: `${REGION}-a`, nodes: 2, vcpus: 8, memoryGiB: 32, labels: {}, taints: [] },
  {
    name: 'l4-pool', machineType: 'g2-standard-8', zone: `${REGION}-a`, nodes: 2, vcpus: 8, memoryGiB: 32,
    labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
    accelerator: { resource: 'nvidia.com/gpu', count: 1 },
    taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
  },
  {
    name: 'tpu-v5e-pool', machineType: 'ct5lp-hightpu-4t', zone: `${REGION}-a`, nodes: 1, vcpus: 112, memoryGiB: 192,
    labels: { 'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice', 'cloud.google.com/gke-tpu-topology': '2x2' },
    accelerator: { resource: 'google.com/tpu', count: 4 },
    taints: [{ key: 'google.com/tpu', value: 'present', effect: 'NoSchedule' }],
  },
];

// GKE's documented reservations for system daemons (CPU and memory), plus the 100 MiB eviction threshold.
function allocatableMilliCpu(vcpus: number): number {
  const tiers: Array<[number, number]> = [[1, 0.06], [1, 0.01], [2, 0.005], [Infinity, 0.0025]];
  return vcpus * 1000 - Math.round(reserve(vcpus, tiers) * 1000);
}

function allocatableMemoryKi(gib: number): number {
  const tiers: Array<[number, number]> = [[4, 0.25], [4, 0.2], [8, 0.1], [112, 0.06], [Infinity, 0.02]];
  return Math.floor((gib - reserve(gib, tiers)) * 1024 * 1024) - 100 * 1024;
}

function reserve(amount: number, tiers: Array<[number, number]>): number {
  let left = amount;
  let reserved = 0;
  for (const [size, share] of tiers) {
    const part = Math.min(left, size);
    reserved += part * share;
    left -= part;
  }
  return reserved;
}

export function nodeName(pool: NodePool, index: number): string {
  // GKE names nodes gke-<cluster>-<pool>-<instance group hash>-<suffix>.
  const group = createHash('sha256').update(`${CLUSTER}/${pool.name}`).digest('hex').slice(0, 8);
  return `gke-${CLUSTER}-${pool.name}-${group}-${String.fromCharCode(97 + index)}${index.toString(36).padStart(3, '0')}`;
}

export function nodeObject(pool: NodePool, index: number, kubeVersion: string): V1Node {
  const name = nodeName(pool, index);
  const family = pool.machineType.split('-')[0] ?? pool.machineType;
  const capacity: Record<string, string> = {
    cpu: String(pool.vcpus),
    memory: `${pool.memoryGiB * 1024 * 1024}Ki`,
    pods: '110',
    'ephemeral-storage': '98831908Ki',
  };
  const allocatable: Record<string, string> = {
    ...capacity,
    cpu: `${allocatableMilliCpu(pool.vcpus)}m`,
    memory: `${allocatableMemoryKi(pool.memoryGiB)}Ki`,
    'ephemeral-storage': '47060071478',
  };
  if (pool.accelerator) {
    capacity[pool.accelerator.resource] = String(pool.accelerator.count);
    allocatable[pool.accelerator.resource] = String(pool.accelerator.count);
  }
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { ...KWOK_NODE_ANNOTATION },
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': pool.machineType,
        'beta.kubernetes.io/os': 'linux',
        'cloud.google.com/gke-boot-disk': 'pd-balanced',
        'cloud.google.com/gke-container-runtime': 'containerd',
        'cloud.google.com/gke-logging-variant': 'DEFAULT',
        'cloud.google.com/gke-max-pods-per-node': '110',
        'cloud.google.com/gke-nodepool': pool.name,
        'cloud.google.com/gke-os-distribution': 'cos',
        'cloud.google.com/gke-provisioning': 'standard',
        'cloud.google.com/gke-stack-type': 'IPV4',
        'cloud.google.com/machine-family': family,
        'cloud.google.com/private-node': 'false',
        'failure-domain.beta.kubernetes.io/region': REGION,
        'failure-domain.beta.kubernetes.io/zone': pool.zone,
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': pool.machineType,
        'topology.gke.io/zone': pool.zone,
        'topology.kubernetes.io/region': REGION,
        'topology.kubernetes.io/zone': pool.zone,
        ...pool.labels,
      },
    },
    spec: { providerID: `gce://${CLUSTER}/${pool.zone}/${name}`, taints: pool.taints.map((t) => ({ ...t })) },
    status: {
      capacity,
      allocatable,
      nodeInfo: {
        architecture: 'amd64', operatingSystem: 'linux', osImage: 'Container-Optimized OS from Google', kubeletVersion: kubeVersion,
        kubeProxyVersion: kubeVersion, containerRuntimeVersion: 'containerd://2.0.6', kernelVersion: '6.6.87+', bootID: '', machineID: '', systemUUID: '',
      },
    },
  };
}

/** Creates every pool's nodes and waits until kwok reports them all Ready. */
export async function createNodePools(kc: KubeConfig, kubeVersion: string, timeoutMs: number, alive: () => void): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const nodes = NODE_POOLS.flatMap((pool) => Array.from({ length: pool.nodes }, (_, i) => nodeObject(pool, i, kubeVersion)));
  await Promise.all(nodes.map((body) => core.createNode({ body })));
  const names = nodes.map((n) => n.metadata?.name ?? '');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    alive();
    const list = await core.listNode({ labelSelector: 'cloud.google.com/gke-nodepool' });
    const ready = new Set(list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name));
    const waiting = names.filter((n) => !ready.has(n));
    if (waiting.length === 0) return names;
    if (Date.now() > deadline) throw new Error(`kwok did not make these nodes Ready within ${timeoutMs} ms: ${waiting.join(', ')}`);
    await sleep(200);
  }
}
