// Tekton Chains' controller as the benchmark runs it: built from its Go module by
// hack/build-chains.sh, configured as a release installs it (its ConfigMaps in its own namespace,
// its release RBAC bound to its ServiceAccount's identity), with the table's flags. What a Pod gives
// it and a bare process lacks:
//  - keys: it reads them from /etc/signing-secrets, a constant in its code. The process runs in
//    its own mount namespace (unshare) where an overlay of /etc holds that directory, bind-mounted
//    from a temporary one holding x509.pem: nothing on the machine's /etc changes. Needs root or
//    unprivileged user namespaces.
//  - health: it serves probes on :8080 of every interface, a constant too, as every knative
//    controller does (Tekton Pipelines' in the test environments on the same machine): it runs in
//    a network namespace of its own (bench-env.ts), where /readiness is the start-up check.
//  - leader election: knative's, with Leases in its namespace. The benchmark deletes them before
//    each start, so the new process leads at once instead of waiting out a dead one's lease.
//  - SYSTEM_NAMESPACE and the ConfigMap names come from the environment, as the Deployment sets
//    them; metrics and profiling get free ports.
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { freePort } from '../../hack/env/ports.ts';
import { BUCKET, yamlDocs, type BenchEnv } from './bench-env.ts';
import { Child, type ControllerSpec, type RunningController } from './controller.ts';

const repo = join(import.meta.dirname, '..', '..');
export const CHAINS_NAMESPACE = 'tekton-chains';
const HEALTH_PORT = 8080;

export interface ChainsOptions {
  readonly storage: 'tekton' | 'gcs';
  readonly threads: number;
  readonly qps: number;
  readonly burst: number;
}

/** Builds Chains (cached after the first time) and returns the binary and its release config dir. */
export function chainsBuild(): { binary: string; configDir: string; version: string } {
  const out = spawnSync('bash', [join(repo, 'hack', 'build-chains.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (out.status !== 0) throw new Error('hack/build-chains.sh failed (see above)');
  const binary = out.stdout.trim().split('\n').at(-1) ?? '';
  const version = /tekton-chains-controller-(v[\w.-]+)$/.exec(binary)?.[1] ?? '?';
  return { binary, configDir: join(dirname(dirname(binary)), `tekton-chains-config-${version}`), version };
}

/** Its namespace, release RBAC (not the Deployment or the empty signing Secret) and ConfigMaps. */
async function install(env: BenchEnv, configDir: string, options: ChainsOptions, profiling: boolean): Promise<void> {
  const release = [...yamlDocs(join(configDir, '100-deployment.yaml')), ...yamlDocs(join(configDir, '100-rolebinding.yaml'))]
    .filter((d) => !['Deployment', 'Secret', 'ConfigMap'].includes(d.kind ?? ''));
  const configMap = (name: string, data: Record<string, string>): KubernetesObject =>
    ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: CHAINS_NAMESPACE }, data } as KubernetesObject);
  const logging = yamlDocs(join(configDir, 'config-logging.yaml'))[0] as KubernetesObject & { data?: Record<string, string> };
  await env.apply([
    ...release,
    configMap('chains-config', {
      'artifacts.taskrun.format': 'slsa/v2alpha4',
      'artifacts.taskrun.signer': 'x509',
      'artifacts.taskrun.storage': options.storage,
      'artifacts.pipelinerun.storage': '',
      'artifacts.oci.storage': '',
      'transparency.enabled': 'false',
      ...(options.storage === 'gcs' ? { 'storage.gcs.bucket': BUCKET } : {}),
    }),
    configMap('config-logging', logging.data ?? {}),
    configMap('tekton-chains-config-observability', profiling ? { 'profiling.enable': 'true' } : {}),
    configMap('tekton-chains-config-leader-election', {}),
  ]);
}

export function chains(options: ChainsOptions): ControllerSpec {
  const build = chainsBuild();
  return {
    name: `Chains ${build.version}`,
    configuration: `unencrypted x509 key, ${options.threads} threads, QPS ${options.qps}/burst ${options.burst}, storage \`${options.storage}\``,
    annotation: 'chains.tekton.dev/signed',
    signedValue: 'true',
    finalizer: 'chains.tekton.dev/taskrun',
    async start(env, start): Promise<RunningController> {
      await install(env, build.configDir, options, start.profileDir !== undefined);
      await env.api.request({ method: 'DELETE', path: `/apis/coordination.k8s.io/v1/namespaces/${CHAINS_NAMESPACE}/leases` });
      const dir = mkdtempSync(join(tmpdir(), 'slsa-ml-bench-chains-'));
      const keys = join(dir, 'keys');
      mkdirSync(keys);
      writeFileSync(join(keys, 'x509.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      for (const d of ['upper', 'work']) mkdirSync(join(dir, d));
      const [metrics, profiling] = [await freePort(), await freePort()];
      const args = [`--kubeconfig=${env.kubeconfigFor('chains')}`, `--threads-per-controller=${options.threads}`, `--kube-api-qps=${options.qps}`, `--kube-api-burst=${options.burst}`];
      const script = [
        `mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/upper,workdir=${dir}/work /etc`,
        'mkdir -p /etc/signing-secrets',
        `mount --bind ${keys} /etc/signing-secrets`,
        `exec ${build.binary} ${args.map((a) => `'${a}'`).join(' ')}`,
      ].join(' && ');
      const child = new Child('ip', ['netns', 'exec', env.netns.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], {
        PATH: process.env.PATH ?? '',
        SYSTEM_NAMESPACE: CHAINS_NAMESPACE,
        METRICS_DOMAIN: 'tekton.dev/chains',
        CONFIG_OBSERVABILITY_NAME: 'tekton-chains-config-observability',
        CONFIG_LEADERELECTION_NAME: 'tekton-chains-config-leader-election',
        KUBERNETES_MIN_VERSION: 'v1.28.0',
        METRICS_PROMETHEUS_PORT: String(metrics),
        PROFILING_PORT: String(profiling),
        ...(options.storage === 'gcs' ? { STORAGE_EMULATOR_HOST: env.gcsEndpoint().replace(/^https?:\/\//, '') } : {}),
      });
      const leading = async (): Promise<boolean> => {
        const probe = await fetch(`http://${env.netns.address}:${HEALTH_PORT}/readiness`).then((r) => r.ok, () => false);
        if (!probe) return false;
        const leases = await env.api.request<{ items: Array<{ metadata: { name: string }; spec?: { holderIdentity?: string } }> }>({ method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/${CHAINS_NAMESPACE}/leases` });
        return leases.items.some((l) => l.metadata.name.includes('taskrun') && l.spec?.holderIdentity);
      };
      return {
        pid: child.pid,
        ready: (timeoutMs = 60_000) => child.waitFor('Chains leading', leading, timeoutMs),
        async profileWindow(seconds: number): Promise<void> {
          if (!start.profileDir) return;
          const res = await fetch(`http://${env.netns.address}:${profiling}/debug/pprof/profile?seconds=${seconds}`);
          const file = join(start.profileDir, `chains-${start.label}.pprof`);
          writeFileSync(file, Buffer.from(await res.arrayBuffer()));
          const top = execFileSync('go', ['tool', 'pprof', '-top', '-nodecount=80', build.binary, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
          writeFileSync(`${file}.top.txt`, top);
        },
        output: () => child.output(),
        stop: () => child.stop('SIGTERM'),
      };
    },
  };
}
