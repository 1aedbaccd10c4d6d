// The environment the side-by-side benchmark runs both controllers against: etcd, kube-apiserver
// with the Tekton CRDs, and fake-gcs-server — only the API server parts of hack/env (no Tekton
// controller, scheduler or kwok: the driver plays Tekton, and nothing else competes for the two
// cores). Identities: the admin (the driver), the slsa-ml operator's ServiceAccount and Chains'
// ServiceAccount, each bound only to its own release RBAC. Fake GCS can be restarted empty.
//
// Chains binds its health probes to :8080 of every interface, a constant in its code, and so does
// every other knative controller (Tekton Pipelines' in the test environments other people run on
// the same machine): side by side they would take the port from each other. So Chains gets a
// network namespace of its own, joined to this one by a veth pair, and kube-apiserver and
// fake-gcs-server listen on the host end's address, which both controllers use.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startEtcd } from '../../hack/env/etcd.ts';
import { createBucket } from '../../hack/env/fake-gcs.ts';
import { tokenFile, type Identity } from '../../hack/env/identities.ts';
import { kubeconfigYaml } from '../../hack/env/kubeconfig.ts';
import { freePort } from '../../hack/env/ports.ts';
import { startDetached, stopGroup, waitReady, type Started } from '../../hack/env/processes.ts';
import { installTektonCrds } from '../../hack/env/tekton-crds.ts';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { fromKubeconfigFile, KubeApi } from '../../operator/kube/index.ts';

const repo = join(import.meta.dirname, '..', '..');
export const BUCKET = 'bench';
/**
 * Models go to buckets of at most this many (bench-0, bench-1, …; 0: all in `bench`).
 * fake-gcs-server's memory backend scans every object of a bucket on each create and list
 * (findLastObjectGeneration, ListObjects): a create costs it 1 ms of CPU at 200 objects and 11 ms
 * at 3,000, which Cloud Storage does not; a few hundred objects per bucket keep that artifact
 * out of the figures, as per-team buckets would in a large installation.
 */
export const MODELS_PER_BUCKET = Number(process.env.BENCH_MODELS_PER_BUCKET ?? 100);
/** Buckets enough for a steady minute at 30/s; runs beyond wrap around. */
export const BUCKETS = MODELS_PER_BUCKET > 0 ? Array.from({ length: 20 }, (_, i) => `bench-${i}`) : [BUCKET];

export function bucketFor(run: number): string {
  return BUCKETS[Math.floor(run / Math.max(1, MODELS_PER_BUCKET)) % BUCKETS.length] ?? BUCKET;
}

export interface BenchEnv {
  readonly stateDir: string;
  readonly kubeconfig: string;
  readonly kubeVersion: string;
  /** The network namespace Chains runs in (`ip netns exec NAME …`), and its address. */
  readonly netns: { readonly name: string; readonly address: string };
  readonly pids: () => Record<string, number>;
  /** The driver's client (admin): the lean one the operator uses, so the driver stays cheap. */
  readonly api: KubeApi;
  readonly gcsEndpoint: () => string;
  /** A fresh, empty fake-gcs-server with the bench bucket (its memory store slows as objects pile up). */
  resetGcs(): Promise<void>;
  /** Applies YAML documents (or objects) as the admin, server-side. */
  apply(docs: readonly KubernetesObject[]): Promise<void>;
  /** A kubeconfig file holding one identity only. */
  kubeconfigFor(identity: 'operator' | 'chains'): string;
  stop(): Promise<void>;
}

function serviceAccount(name: string, namespace: string, sa: string, token: string): Identity {
  return { name, user: `system:serviceaccount:${namespace}:${sa}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`], token };
}

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** A network namespace joined to this one by a veth pair; returns both ends' addresses. */
function createNetns(name: string, id: number): { host: string; inside: string } {
  const [host, inside] = [`10.213.${id}.1`, `10.213.${id}.2`];
  ip('netns', 'add', name);
  ip('link', 'add', `sbh${id}`, 'type', 'veth', 'peer', 'name', `sbc${id}`);
  ip('link', 'set', `sbc${id}`, 'netns', name);
  ip('addr', 'add', `${host}/30`, 'dev', `sbh${id}`);
  ip('link', 'set', `sbh${id}`, 'up');
  ip('netns', 'exec', name, 'ip', 'addr', 'add', `${inside}/30`, 'dev', `sbc${id}`);
  ip('netns', 'exec', name, 'ip', 'link', 'set', `sbc${id}`, 'up');
  ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  return { host, inside };
}

/** kube-apiserver as hack/env/kube-apiserver.ts starts it, listening on `address`. */
async function startApiserver(stateDir: string, address: string, etcdURL: string, identities: readonly Identity[]): Promise<Started & { server: string; caPem: string }> {
  const port = await freePort();
  const [saKey, saPub, tokens, certDir] = ['service-account.key', 'service-account.pub', 'tokens.csv', 'apiserver-certs'].map((f) => join(stateDir, f)) as [string, string, string, string];
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(saKey, privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
  writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(tokens, tokenFile(identities), { mode: 0o600 });
  const proc = startDetached('kube-apiserver', requireTool(toolPaths().kubeApiserver, 'kube-apiserver'), [
    `--etcd-servers=${etcdURL}`, `--bind-address=${address}`, `--advertise-address=${address}`, `--secure-port=${port}`, `--cert-dir=${certDir}`,
    '--service-cluster-ip-range=10.0.0.0/24', '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${saKey}`, '--authorization-mode=RBAC', `--token-auth-file=${tokens}`,
    '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition', '--endpoint-reconciler-type=none', '--v=0',
  ], join(stateDir, 'kube-apiserver.log'));
  const server = `https://${address}:${port}`;
  const admin = identities[0] as Identity;
  // The serving certificate is self-signed and written during start-up: not checked here.
  await waitReady(proc, () => new Promise<boolean>((resolve) => {
    const req = httpsRequest(`${server}/readyz`, { headers: { authorization: `Bearer ${admin.token}` }, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  }), 90_000);
  return { ...proc, server, caPem: readFileSync(join(certDir, 'apiserver.crt'), 'utf8') };
}

/** fake-gcs-server as hack/env/fake-gcs.ts starts it, listening on `address`. */
async function startGcs(stateDir: string, address: string): Promise<Started & { endpoint: string }> {
  const port = await freePort();
  const endpoint = `http://${address}:${port}`;
  const proc = startDetached('fake-gcs-server', requireTool(toolPaths().fakeGcsServer, 'fake-gcs-server'), [
    '-backend', 'memory', '-scheme', 'http', '-host', address, '-port', String(port), '-external-url', endpoint, '-public-host', `${address}:${port}`, '-log-level', 'warn',
  ], join(stateDir, 'fake-gcs-server.log'));
  await waitReady(proc, async () => (await fetch(`${endpoint}/storage/v1/b`)).ok, 30_000);
  for (const bucket of new Set([BUCKET, ...BUCKETS])) await createBucket(endpoint, bucket, BUCKET);
  return { ...proc, endpoint };
}

export async function startBenchEnv(): Promise<BenchEnv> {
  const stateDir = mkdtempSync(join(tmpdir(), 'slsa-ml-bench-'));
  const token = (): string => Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('hex');
  const identities: Identity[] = [
    { name: 'admin', user: 'slsa-ml-admin', groups: ['system:masters'], token: token() },
    serviceAccount('operator', 'slsa-ml-system', 'slsa-ml-operator', token()),
    serviceAccount('chains', 'tekton-chains', 'tekton-chains-controller', token()),
  ];
  const id = 1 + (process.pid % 250);
  const netns = `slsa-ml-bench-${process.pid}`;
  const addresses = createNetns(netns, id);
  const started: Started[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const proc of [...started].reverse()) await stopGroup(proc.pid);
    try { ip('netns', 'del', netns); } catch { /* already gone */ }
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const etcd = await startEtcd(requireTool(toolPaths().etcd, 'etcd'), stateDir);
    started.push(etcd);
    const apiserver = await startApiserver(stateDir, addresses.host, etcd.clientURL, identities);
    started.push(apiserver);
    let gcs = await startGcs(stateDir, addresses.host);
    started.push(gcs);
    const kubeconfig = join(stateDir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(apiserver.server, apiserver.caPem, identities), { mode: 0o600 });
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    await installTektonCrds(kc, requireTool(toolPaths().tektonCrdDir, 'tekton'));
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const apply = async (docs: readonly KubernetesObject[]): Promise<void> => {
      for (const doc of docs) await objects.patch(doc, undefined, undefined, 'slsa-ml-bench', true, PatchStrategy.ServerSideApply);
    };
    await apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'slsa-ml-system' } }, ...yamlDocs(join(repo, 'manifests', 'base', 'rbac.yaml'))]);
    const api = new KubeApi(fromKubeconfigFile(kubeconfig, 'admin'));
    const kubeVersion = (await api.request<{ gitVersion: string }>({ method: 'GET', path: '/version' })).gitVersion;
    return {
      stateDir,
      kubeconfig,
      kubeVersion,
      netns: { name: netns, address: addresses.inside },
      api,
      pids: () => ({ 'kube-apiserver': apiserver.pid, etcd: etcd.pid, 'fake-gcs-server': gcs.pid }),
      gcsEndpoint: () => gcs.endpoint,
      async resetGcs(): Promise<void> {
        await stopGroup(gcs.pid);
        started.splice(started.indexOf(gcs), 1);
        gcs = await startGcs(stateDir, addresses.host);
        started.push(gcs);
      },
      apply,
      kubeconfigFor(name): string {
        const identity = identities.find((i) => i.name === name) as Identity;
        const path = join(stateDir, `kubeconfig-${name}`);
        writeFileSync(path, kubeconfigYaml(apiserver.server, apiserver.caPem, [identity], name), { mode: 0o600 });
        return path;
      },
      stop: cleanUp,
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

export function yamlDocs(path: string): KubernetesObject[] {
  const docs: KubernetesObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
    if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as KubernetesObject | null;
    if (value) docs.push(value);
  }
  return docs;
}
