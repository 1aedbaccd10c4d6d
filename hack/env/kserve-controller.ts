// KServe's real controller manager (github.com/kserve/kserve cmd/manager, built by
// hack/install-tools.sh kserve-controller) with what a KServe release installs beside it
// (hack/install-tools.sh kserve-config): the inferenceservice-config ConfigMap in RawDeployment
// mode, the controller's ClusterRole under its own ServiceAccount, KServe's webhook configurations,
// and the TorchServe ClusterServingRuntime. The controller turns an InferenceService into a
// Deployment; its Pod mutator (the same binary) injects the storage initializer into the Pods.
//
// Differences from a cluster, each forced by running it as a process: the webhooks are called at
// https://127.0.0.1:<port> instead of through the kserve-webhook-server-service Service, with a
// test CA instead of cert-manager's; and they are limited to the namespaces the caller names, so
// that a test which stops the controller without removing them cannot break the others.
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { answersOk } from './health.ts';
import { componentKubeconfigYaml } from './kubeconfig.ts';
import { freePorts } from './ports.ts';
import { startDetached, waitReady, type Started } from './processes.ts';

export const KSERVE_NAMESPACE = 'kserve';
export const KSERVE_SERVICE_ACCOUNT = 'kserve-controller-manager';
const FIELD_MANAGER = 'slsa-ml-env';

export interface KserveTls {
  readonly caPem: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export interface KserveHandle extends Started {
  readonly webhookPort: number;
  readonly probePort: number;
  /** The cluster-scoped objects installed for it, to remove with removeKserve. */
  readonly installed: readonly KubernetesObject[];
}

function documents(path: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((d): d is KubernetesObject => d !== null && typeof d === 'object' && typeof d.kind === 'string');
}

/** The ConfigMap as released, with `deploy` switched to RawDeployment (KServe's documented raw install). */
function inferenceServiceConfig(configDir: string): KubernetesObject {
  const [cm] = documents(join(configDir, 'inferenceservice.yaml'));
  if (!cm) throw new Error(`no ConfigMap in ${configDir}/inferenceservice.yaml`);
  const data = (cm as { data: Record<string, string> }).data;
  data.deploy = JSON.stringify({ defaultDeploymentMode: 'RawDeployment' });
  return cm;
}

/** The released runtime with the image its kustomization substitutes for the placeholder. */
function torchServeRuntime(configDir: string): KubernetesObject {
  const [runtime] = documents(join(configDir, 'kserve-torchserve.yaml'));
  const kustomization = readFileSync(join(configDir, 'kustomization.yaml'), 'utf8');
  const image = /- name: kserve-torchserve\s+newName: (\S+)\s+newTag: (\S+)/.exec(kustomization);
  if (!runtime || !image) throw new Error(`no kserve-torchserve runtime or image in ${configDir}`);
  const spec = (runtime as { spec: { containers: Array<{ image: string }> } }).spec;
  for (const c of spec.containers) c.image = `${image[1]}:${image[2]}`;
  return runtime;
}

interface WebhookEntry {
  clientConfig: { service?: { path?: string }; url?: string; caBundle?: string };
  namespaceSelector?: { matchExpressions?: Array<Record<string, unknown>>; matchLabels?: Record<string, string> };
}

/** KServe's webhook configurations, pointed at the local process and limited to `namespaceLabel` namespaces. */
function webhookConfigurations(configDir: string, port: number, caPem: string, namespaceLabel: Readonly<Record<string, string>>): KubernetesObject[] {
  return documents(join(configDir, 'manifests.yaml')).map((doc) => {
    const config = doc as KubernetesObject & { webhooks: WebhookEntry[] };
    delete config.metadata?.creationTimestamp;
    for (const hook of config.webhooks) {
      const path = hook.clientConfig.service?.path ?? '';
      hook.clientConfig = { url: `https://127.0.0.1:${port}${path}`, caBundle: Buffer.from(caPem).toString('base64') };
      hook.namespaceSelector = { ...hook.namespaceSelector, matchLabels: { ...hook.namespaceSelector?.matchLabels, ...namespaceLabel } };
    }
    return config;
  });
}

/** The release's role_binding.yaml and leader_election_role_binding.yaml: each role to the controller's ServiceAccount. */
function bindings(clusterRoles: readonly KubernetesObject[], roles: readonly KubernetesObject[]): KubernetesObject[] {
  const subjects = [{ kind: 'ServiceAccount', name: KSERVE_SERVICE_ACCOUNT, namespace: KSERVE_NAMESPACE }];
  const binding = (kind: 'ClusterRole' | 'Role', role: KubernetesObject): KubernetesObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: `${kind}Binding`,
    metadata: { name: role.metadata?.name ?? '', ...(kind === 'Role' ? { namespace: KSERVE_NAMESPACE } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role.metadata?.name ?? '' },
    subjects,
  } as KubernetesObject);
  return [...clusterRoles.map((r) => binding('ClusterRole', r)), ...roles.map((r) => binding('Role', r))];
}

async function apply(api: KubernetesObjectApi, objects: readonly KubernetesObject[]): Promise<void> {
  for (const o of objects) await api.patch(o, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
}

/**
 * Installs KServe's configuration and starts its controller manager as the ServiceAccount
 * kserve/kserve-controller-manager (a token from the TokenRequest API), holding exactly the
 * release's ClusterRole. Ready once its webhook server serves.
 */
export async function startKserveController(options: {
  binary: string;
  configDir: string;
  stateDir: string;
  admin: KubeConfig;
  tls: KserveTls;
  /** Labels a namespace must carry for KServe's webhooks to see it. */
  namespaceLabel: Readonly<Record<string, string>>;
}): Promise<KserveHandle> {
  const { admin, configDir, stateDir } = options;
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const [webhookPort = 0, probePort = 0, metricsPort = 0] = await freePorts(3);
  const role = documents(join(configDir, 'role.yaml'));
  const leaderRole = documents(join(configDir, 'leader_election_role.yaml')).map((r) => ({ ...r, metadata: { ...r.metadata, namespace: KSERVE_NAMESPACE } }));
  await apply(objects, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: KSERVE_NAMESPACE } }]);
  await apply(objects, [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: KSERVE_SERVICE_ACCOUNT, namespace: KSERVE_NAMESPACE } },
    inferenceServiceConfig(configDir),
    ...role,
    ...leaderRole,
    ...bindings(role, leaderRole),
    torchServeRuntime(configDir),
  ]);
  const home = join(stateDir, 'kserve-controller');
  // controller-runtime reads the webhook's certificate from $TMPDIR/k8s-webhook-server/serving-certs.
  const certDir = join(home, 'tmp', 'k8s-webhook-server', 'serving-certs');
  mkdirSync(certDir, { recursive: true });
  copyFileSync(options.tls.certPath, join(certDir, 'tls.crt'));
  copyFileSync(options.tls.keyPath, join(certDir, 'tls.key'));
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(kubeconfig, await serviceAccountKubeconfig(admin), { mode: 0o600 });
  const proc = startDetached('kserve-controller', options.binary, [
    `--webhook-port=${webhookPort}`,
    `--health-probe-addr=127.0.0.1:${probePort}`,
    `--metrics-addr=127.0.0.1:${metricsPort}`,
  ], join(stateDir, 'kserve-controller.log'), {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TMPDIR: join(home, 'tmp'), KUBECONFIG: kubeconfig, POD_NAMESPACE: KSERVE_NAMESPACE,
  });
  const webhooks = webhookConfigurations(configDir, webhookPort, options.tls.caPem, options.namespaceLabel);
  const handle: KserveHandle = { ...proc, webhookPort, probePort, installed: [...webhooks, torchServeRuntime(configDir)] };
  await waitReady(proc, () => answersOk(`http://127.0.0.1:${probePort}/readyz`), 60_000);
  await apply(objects, webhooks);
  return handle;
}

/** A kubeconfig for the controller's ServiceAccount, with a token from the TokenRequest API. */
async function serviceAccountKubeconfig(admin: KubeConfig): Promise<string> {
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: KSERVE_SERVICE_ACCOUNT, namespace: KSERVE_NAMESPACE, body: { spec: { audiences: [], expirationSeconds: 24 * 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster?.caData) throw new Error('the admin kubeconfig has no certificate-authority-data');
  const user = `system:serviceaccount:${KSERVE_NAMESPACE}:${KSERVE_SERVICE_ACCOUNT}`;
  return componentKubeconfigYaml(cluster.server, Buffer.from(cluster.caData, 'base64').toString(), { name: 'kserve', user, groups: [], token: token.status?.token ?? '' });
}

/** Removes the webhook configurations and runtime (the process is stopped by the caller). */
export async function removeKserve(admin: KubeConfig, handle: KserveHandle): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(admin);
  for (const o of handle.installed) await objects.delete(o).catch(() => undefined);
}
