// The whole local environment: etcd + kube-apiserver (Tekton and KServe CRDs, RBAC identities) +
// fake-gcs-server, and the cluster that runs TaskRuns (cluster.ts: the Tekton controller and
// resolvers, kube-scheduler, kwok with fake GKE node pools). `start` leaves it running and
// describes it in <stateDir>/env.json; `stop` ends every process it started and removes its
// temporary state.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { applyRestrictedRbac } from './bootstrap-rbac.ts';
import { startCluster } from './cluster.ts';
import { startEtcd } from './etcd.ts';
import { startFakeGcs } from './fake-gcs.ts';
import { generateIdentities } from './identities.ts';
import { installKserveCrds } from './kserve-crds.ts';
import { startKubeApiserver } from './kube-apiserver.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { startDetached, stopGroup, type Started } from './processes.ts';
import { installTektonCrds } from './tekton-crds.ts';
import { requireTool, toolPaths } from './tools.ts';

export interface EnvInfo {
  readonly stateDir: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly kubeVersion: string;
  readonly tektonVersion: string;
  readonly gcsEndpoint: string;
  readonly tektonCrds: readonly string[];
  readonly kserveVersion: string;
  /** KServe's CRDs (InferenceService, ClusterStorageContainer, ...); no KServe controller runs. */
  readonly kserveCrds: readonly string[];
  /** The fake GKE nodes kwok runs (node-pools.ts). */
  readonly nodes: readonly string[];
  readonly identities: Readonly<Record<string, string>>;
  readonly processes: readonly Started[];
  readonly startupMs: Readonly<Record<string, number>>;
}

export const ENV_FILE = 'env.json';

export async function startEnvironment(): Promise<EnvInfo> {
  for (let attempt = 1; ; attempt++) {
    const stateDir = mkdtempSync(join(tmpdir(), 'slsa-ml-env-'));
    try {
      return await startIn(stateDir);
    } catch (err) {
      // A port taken between choosing it and binding it: pick new ports and try again.
      if (attempt < 3 && /address already in use/i.test(String(err))) continue;
      throw err;
    }
  }
}

async function startIn(stateDir: string): Promise<EnvInfo> {
  const tools = toolPaths();
  const started: Started[] = [];
  const startupMs: Record<string, number> = {};
  const t0 = Date.now();
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const result = await fn();
    startupMs[name] = Date.now() - t;
    return result;
  };
  try {
    const identities = generateIdentities();
    const [etcd, gcs] = await Promise.all([
      timed('etcd', () => startEtcd(requireTool(tools.etcd, 'etcd'), stateDir)),
      timed('fake-gcs-server', () => startFakeGcs(requireTool(tools.fakeGcsServer, 'fake-gcs-server'), stateDir)),
    ]);
    started.push(etcd, gcs);
    const api = await timed('kube-apiserver', () =>
      startKubeApiserver(requireTool(tools.kubeApiserver, 'kube-apiserver'), stateDir, etcd.clientURL, identities));
    started.push(api);
    const kubeconfig = join(stateDir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(api.server, api.caPem, identities), { mode: 0o600 });
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    // Nothing else here uses KServe's CRDs: they install while the rest starts, awaited at the end.
    // Most of their cost is the API server's, processing InferenceService's 1 MB schema.
    const kserve = timed('kserve-crds', () => installKserveCrds(kc, requireTool(tools.kserveCrdDir, 'kserve')));
    kserve.catch(() => undefined); // awaited below; this only keeps an earlier failure from leaving it unhandled
    const tektonCrds = await timed('tekton-crds', () => installTektonCrds(kc, requireTool(tools.tektonCrdDir, 'tekton')));
    const restricted = identities.find((i) => i.name === 'restricted');
    await applyRestrictedRbac(kc, restricted?.user ?? '');
    const version = await kc.makeApiClient(VersionApi).getCode();
    const nodes = await startCluster({
      stateDir, tools, server: api.server, caPem: api.caPem, identities, admin: kc, kubeVersion: version.gitVersion,
      started: (proc) => started.push(proc), timed,
    });
    const kserveCrds = await kserve;
    startupMs.total = Date.now() - t0;
    const info: EnvInfo = {
      stateDir,
      kubeconfig,
      server: api.server,
      kubeVersion: version.gitVersion,
      tektonVersion: tools.versions.TEKTON_PIPELINE_VERSION ?? 'unknown',
      gcsEndpoint: gcs.endpoint,
      tektonCrds,
      kserveVersion: tools.versions.KSERVE_VERSION ?? 'unknown',
      kserveCrds,
      nodes,
      identities: Object.fromEntries(identities.map((i) => [i.name, i.user])),
      processes: started,
      startupMs,
    };
    writeFileSync(join(stateDir, ENV_FILE), JSON.stringify(info, null, 2));
    return info;
  } catch (err) {
    await stopProcesses(started);
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
}

export function readEnvInfo(envFile: string): EnvInfo {
  return JSON.parse(readFileSync(envFile, 'utf8')) as EnvInfo;
}

async function stopProcesses(processes: readonly Started[]): Promise<void> {
  // Reverse start order: the controllers before the API server, and the API server before etcd,
  // so none of them logs a storm of connection errors.
  for (const proc of [...processes].reverse()) await stopGroup(proc.pid);
}

/**
 * Stops one component and starts it again with the same command line (for failure tests:
 * kube-apiserver keeps its port, certificates and etcd data). env.json records the new pid.
 */
export async function restartComponent(envFile: string, name: string, whileDown: () => Promise<void> = () => Promise.resolve()): Promise<EnvInfo> {
  const info = readEnvInfo(envFile);
  const old = info.processes.find((p) => p.name === name);
  if (!old) throw new Error(`no component named ${name} in ${envFile}`);
  await stopGroup(old.pid);
  await whileDown();
  const fresh = startDetached(name, old.command, old.args, old.log, old.env);
  const next: EnvInfo = { ...info, processes: info.processes.map((p) => (p.name === name ? fresh : p)) };
  writeFileSync(envFile, JSON.stringify(next, null, 2));
  return next;
}

export async function stopEnvironment(info: EnvInfo): Promise<void> {
  await stopProcesses(info.processes);
  rmSync(info.stateDir, { recursive: true, force: true });
}
