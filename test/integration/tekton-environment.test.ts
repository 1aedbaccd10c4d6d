// The cluster part of the local environment: the fake GKE node pools as kwok keeps them, the
// components that run TaskRuns, and the two guarantees the rest of the suite relies on — the
// real Tekton controller leaves hand-written TaskRuns (spec.managedBy) alone, and a component
// that cannot start fails the start with a message that says how to provision it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { startCluster } from '../../hack/env/cluster.ts';
import { NODE_POOLS } from '../../hack/env/node-pools.ts';
import { toolPaths } from '../../hack/env/tools.ts';
import { newNamespace, testEnv } from '../harness/index.ts';
import { createTaskRun, getTaskRun, HAND_WRITTEN, trainingTaskRun } from '../support/tekton.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');

/** What a node pool is made of, as a scheduler and the operator see it. */
function shape(node: V1Node | undefined): Record<string, unknown> {
  const labels = node?.metadata?.labels ?? {};
  const pick = (keys: string[]): Record<string, unknown> => Object.fromEntries(keys.filter((k) => k in labels).map((k) => [k, labels[k]]));
  const { capacity = {}, allocatable = {} } = node?.status ?? {};
  return {
    pool: labels['cloud.google.com/gke-nodepool'],
    machine: labels['node.kubernetes.io/instance-type'],
    family: labels['cloud.google.com/machine-family'],
    cpu: [capacity.cpu, allocatable.cpu],
    labels: pick(['cloud.google.com/gke-accelerator', 'cloud.google.com/gke-tpu-accelerator', 'cloud.google.com/gke-tpu-topology']),
    extended: Object.fromEntries(Object.entries(allocatable).filter(([k]) => k.includes('/'))),
    taints: (node?.spec?.taints ?? []).map((t) => `${t.key}=${String(t.value)}:${t.effect}`),
  };
}

describe('the cluster of the local environment', () => {
  it('has GKE-shaped node pools, Ready, with GKE labels, capacity, allocatable and accelerator taints', async () => {
    // kwok's nodes only: other tests create bare Node objects of their own.
    const nodes = (await admin.makeApiClient(CoreV1Api).listNode({})).items.filter((n) => n.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake');
    const pools = NODE_POOLS.map((p) => nodes.filter((n) => n.metadata?.labels?.['cloud.google.com/gke-nodepool'] === p.name));
    assert.deepEqual(pools.map((p) => p.length), [2, 2, 1]);
    for (const node of nodes) assert.ok(node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), node.metadata?.name);
    assert.deepEqual(pools.map((p) => shape(p[0])), [
      { pool: 'cpu-pool', machine: 'e2-standard-8', family: 'e2', cpu: ['8', '7910m'], labels: {}, extended: {}, taints: [] },
      {
        pool: 'l4-pool', machine: 'g2-standard-8', family: 'g2', cpu: ['8', '7910m'], labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
        extended: { 'nvidia.com/gpu': '1' }, taints: ['nvidia.com/gpu=present:NoSchedule'],
      },
      {
        pool: 'tpu-v5e-pool', machine: 'ct5lp-hightpu-4t', family: 'ct5lp', cpu: ['112', '111650m'],
        labels: { 'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice', 'cloud.google.com/gke-tpu-topology': '2x2' },
        extended: { 'google.com/tpu': '4' }, taints: ['google.com/tpu=present:NoSchedule'],
      },
    ]);
  });

  it('runs the Tekton controller and resolvers, kube-scheduler and kwok, each under its own identity', () => {
    const names = env.info.processes.map((p) => p.name);
    for (const name of ['kube-scheduler', 'kwok', 'tekton-controller', 'tekton-resolvers']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.equal(env.info.identities.tekton, 'system:serviceaccount:tekton-pipelines:tekton-pipelines-controller');
    assert.equal(env.info.identities.scheduler, 'system:kube-scheduler');
  });

  it(`leaves alone a TaskRun whose spec.managedBy is ${HAND_WRITTEN}, so tests can still write its status by hand`, async () => {
    const ns = await newNamespace(env, 'managed-by');
    await createTaskRun(admin, trainingTaskRun(ns, 'by-hand'));
    // Tekton would fail it at once (no Task train-model in the namespace) if it reconciled it.
    await sleep(2000);
    const tr = await getTaskRun(admin, ns, 'by-hand');
    assert.equal(tr.status, undefined);
    assert.equal(tr.metadata.annotations?.['pipeline.tekton.dev/release'], undefined);
  });

  it('fails to start, naming the component and how to provision it, when a binary is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-missing-'));
    try {
      const tools = { ...toolPaths(), tektonController: join(dir, 'tekton-controller-missing') };
      const start = startCluster({
        stateDir: dir, tools, server: env.info.server, caPem: '', identities: [], admin: new KubeConfig(), kubeVersion: env.kubeVersion,
        started: () => assert.fail('nothing may start'), timed: (_name, fn) => fn(),
      });
      await assert.rejects(start, /tekton-controller is not provisioned at .*: run `bash hack\/install-tools\.sh tekton-controller`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
