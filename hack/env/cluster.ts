// The part of the environment that runs TaskRuns for real: Tekton's release RBAC and ConfigMaps,
// the Tekton Pipelines controller and remote resolvers, kube-scheduler, kwok, and the fake GKE
// node pools. Each component runs under its own identity with a kubeconfig holding only that.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Identity } from './identities.ts';
import { TEKTON_NAMESPACE, TEKTON_RESOLVERS_NAMESPACE } from './identities.ts';
import { startKubeScheduler, waitSchedulerReady } from './kube-scheduler.ts';
import { componentKubeconfigYaml } from './kubeconfig.ts';
import { assertKwokAlive, startKwok } from './kwok.ts';
import { createNodePools } from './node-pools.ts';
import type { Started } from './processes.ts';
import { installTektonConfig } from './tekton-config.ts';
import { startTektonController, startTektonResolvers, waitLeading } from './tekton-controller.ts';
import { requireTool, type ToolPaths } from './tools.ts';

export interface ClusterStart {
  readonly stateDir: string;
  readonly tools: ToolPaths;
  readonly server: string;
  readonly caPem: string;
  readonly identities: readonly Identity[];
  /** The admin's client, for installing configuration and watching readiness. */
  readonly admin: KubeConfig;
  readonly kubeVersion: string;
  /** Records each process as soon as it runs, so a failed start still stops it. */
  readonly started: (proc: Started) => void;
  readonly timed: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

const READY_MS = 90_000;

function kubeconfigFor(c: ClusterStart, name: string): string {
  const identity = c.identities.find((i) => i.name === name);
  if (!identity) throw new Error(`no ${name} identity`);
  const path = join(c.stateDir, `kubeconfig-${name}`);
  writeFileSync(path, componentKubeconfigYaml(c.server, c.caPem, identity), { mode: 0o600 });
  return path;
}

/** Starts everything and returns the fake node names once all of it is ready. */
export async function startCluster(c: ClusterStart): Promise<string[]> {
  const { tools } = c;
  const binaries = {
    scheduler: requireTool(tools.kubeScheduler, 'kube-scheduler'),
    kwok: requireTool(tools.kwok, 'kwok'),
    controller: requireTool(tools.tektonController, 'tekton-controller'),
    resolvers: requireTool(tools.tektonResolvers, 'tekton-resolvers'),
    config: requireTool(tools.tektonConfigDir, 'tekton-config'),
  };
  await c.timed('tekton-config', () => installTektonConfig(c.admin, binaries.config));
  const version = tools.versions.TEKTON_PIPELINE_VERSION ?? 'unknown';
  const scheduler = await startKubeScheduler(binaries.scheduler, c.stateDir, kubeconfigFor(c, 'scheduler'));
  c.started(scheduler);
  const kwok = startKwok(binaries.kwok, c.stateDir, kubeconfigFor(c, 'kwok'));
  c.started(kwok);
  const controller = await startTektonController(binaries.controller, version, c.stateDir, kubeconfigFor(c, 'tekton'));
  c.started(controller);
  const resolvers = await startTektonResolvers(binaries.resolvers, c.stateDir, kubeconfigFor(c, 'tekton-resolvers'));
  c.started(resolvers);
  const [nodes] = await Promise.all([
    c.timed('kwok-nodes', () => createNodePools(c.admin, c.kubeVersion, READY_MS, () => assertKwokAlive(kwok))),
    c.timed('kube-scheduler', () => waitSchedulerReady(scheduler, READY_MS)),
    c.timed('tekton-controller', () => waitLeading(c.admin, controller, TEKTON_NAMESPACE, [/\.taskrun\.reconciler\./, /\.pipelinerun\.reconciler\./], READY_MS)),
    c.timed('tekton-resolvers', () => waitLeading(c.admin, resolvers, TEKTON_RESOLVERS_NAMESPACE, ['git', 'cluster', 'bundleresolver', 'http', 'hub'].map((r) => new RegExp(`\\.${r}\\.`)), READY_MS)),
  ]);
  return nodes;
}
