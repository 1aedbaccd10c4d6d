// The real Tekton Pipelines controller and remote resolvers (github.com/tektoncd/pipeline
// cmd/controller and cmd/resolvers, built by hack/install-tools.sh), run as processes with the
// environment their release Deployments give them, each under its own ServiceAccount identity.
//
// Tekton's webhook does not run. The controller defaults and validates every TaskRun and
// PipelineRun itself when it reconciles it; the CRDs keep only v1, so no conversion is needed.
// What the webhook would add is admission-time defaulting and validation: specs are stored as
// written (no `timeout` or `serviceAccountName` filled in), and an invalid run fails in the
// controller instead of being refused by `kubectl apply`.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { TEKTON_NAMESPACE, TEKTON_RESOLVERS_NAMESPACE } from './identities.ts';
import { freePorts } from './ports.ts';
import { isAlive, startDetached, tail, type Started } from './processes.ts';

/** The image a Tekton release names for one of its commands (ko: <name>-<md5 of import path>). */
function releaseImage(command: string, version: string): string {
  const importPath = `github.com/tektoncd/pipeline/cmd/${command}`;
  return `ghcr.io/tektoncd/pipeline/${command}-${createHash('md5').update(importPath).digest('hex')}:${version}`;
}

// Ports of the knative servers (probes, profiling): free ones. knative's own health server
// always binds :8080; when that port is taken it logs the failure and the controllers keep
// running. Metrics are off: knative reads METRICS_PROMETHEUS_PORT as a 16-bit signed number, so
// no free (ephemeral) port would do, and nothing here scrapes them.
async function knativeEnv(stateDir: string, name: string): Promise<Record<string, string>> {
  const [probes, profiling] = await freePorts(2);
  const home = join(stateDir, `${name}-home`);
  const tmp = join(stateDir, `${name}-tmp`);
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    TMPDIR: tmp,
    KUBERNETES_MIN_VERSION: 'v1.28.0',
    CONFIG_LOGGING_NAME: 'config-logging',
    CONFIG_OBSERVABILITY_NAME: 'config-observability',
    CONFIG_FEATURE_FLAGS_NAME: 'feature-flags',
    PROBES_PORT: String(probes),
    PROFILING_PORT: String(profiling),
    DEFAULT_METRICS_BACKEND: 'none',
  };
}

export async function startTektonController(binary: string, version: string, stateDir: string, kubeconfig: string): Promise<Started> {
  const env = {
    ...(await knativeEnv(stateDir, 'tekton-controller')),
    SYSTEM_NAMESPACE: TEKTON_NAMESPACE,
    CONFIG_DEFAULTS_NAME: 'config-defaults',
    CONFIG_LEADERELECTION_NAME: 'config-leader-election-controller',
    CONFIG_SPIRE: 'config-spire',
    METRICS_DOMAIN: 'tekton.dev/pipeline',
  };
  return startDetached('tekton-controller', binary, [
    `-kubeconfig=${kubeconfig}`,
    '-entrypoint-image', releaseImage('entrypoint', version),
    '-nop-image', releaseImage('nop', version),
    '-sidecarlogresults-image', releaseImage('sidecarlogresults', version),
    '-workingdirinit-image', releaseImage('workingdirinit', version),
    // The shell images Tekton's release pins (config/controller.yaml).
    '-shell-image', 'cgr.dev/chainguard/busybox@sha256:19f02276bf8dbdd62f069b922f10c65262cc34b710eea26ff928129a736be791',
    '-shell-image-win', 'mcr.microsoft.com/powershell:nanoserver@sha256:b6d5ff841b78bdf2dfed7550000fd4f3437385b8fa686ec0f010be24777654d6',
  ], join(stateDir, 'tekton-controller.log'), env);
}

/** The git, cluster, bundle, hub and http resolvers; the git resolver clones with the local `git`. */
export async function startTektonResolvers(binary: string, stateDir: string, kubeconfig: string): Promise<Started> {
  const env = {
    ...(await knativeEnv(stateDir, 'tekton-resolvers')),
    SYSTEM_NAMESPACE: TEKTON_RESOLVERS_NAMESPACE,
    CONFIG_LEADERELECTION_NAME: 'config-leader-election-resolvers',
    METRICS_DOMAIN: 'tekton.dev/resolution',
    TEKTON_HUB_API: '',
    ARTIFACT_HUB_API: 'https://artifacthub.io/',
  };
  return startDetached('tekton-resolvers', binary, [`-kubeconfig=${kubeconfig}`], join(stateDir, 'tekton-resolvers.log'), env);
}

/**
 * Ready means leading: knative starts a reconciler's workers once it holds that reconciler's
 * Lease, so every expected Lease held is the signal that runs will be picked up.
 */
export async function waitLeading(kc: KubeConfig, proc: Started, namespace: string, expected: readonly RegExp[], timeoutMs: number): Promise<void> {
  const api = kc.makeApiClient(CoordinationV1Api);
  const deadline = Date.now() + timeoutMs;
  let held: string[] = [];
  while (Date.now() < deadline) {
    if (!isAlive(proc.pid)) throw new Error(`${proc.name} exited during start-up; last lines of ${proc.log}:\n${tail(proc.log)}`);
    const leases = await api.listNamespacedLease({ namespace }).catch(() => ({ items: [] }));
    held = leases.items.filter((l) => l.spec?.holderIdentity).map((l) => l.metadata?.name ?? '');
    if (expected.every((re) => held.some((name) => re.test(name)))) return;
    await sleep(200);
  }
  throw new Error(`${proc.name} did not start leading within ${timeoutMs} ms (leases held in ${namespace}: ${held.join(', ') || 'none'}); last lines of ${proc.log}:\n${tail(proc.log)}`);
}
