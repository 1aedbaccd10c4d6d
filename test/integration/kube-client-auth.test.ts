// The operator's own Kubernetes client (operator/kube: KubeApi, KubeListWatch, kubeconfig.ts)
// authenticating to the real local kube-apiserver the way it does in clusters: client
// certificates from the API server's client CA, a rotated token file, an exec plugin handing out
// short-lived ServiceAccount tokens, impersonation, and the in-cluster ServiceAccount files.
// Who the API server took us for is read back from a SelfSubjectReview; what RBAC allows proves
// that impersonation took effect.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { clientCaOf, issueClientCert, makeClientCa } from '../../hack/env/client-ca.ts';
import { ApiStatusError, KubeApi } from '../../operator/kube/api.ts';
import { fromKubeconfigFile, inCluster, type ClusterAccess } from '../../operator/kube/kubeconfig.ts';
import { KubeListWatch } from '../../operator/kube/list.ts';
import { newNamespace, testEnv } from '../harness/index.ts';

const PLUGIN = fileURLToPath(new URL('../support/token-request-plugin.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kube-client-auth-'));

interface UserInfo { username: string; groups?: string[] }

async function whoAmI(access: ClusterAccess): Promise<UserInfo> {
  const review = await new KubeApi(access, { requestMs: 10_000 }).request<{ status: { userInfo: UserInfo } }>({
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return review.status.userInfo;
}

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err) {
    if (err instanceof ApiStatusError) return err.code;
    throw err;
  }
}

/** A kubeconfig of one user on the local API server; relative paths are relative to `file`'s directory. */
function kubeconfig(file: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const env = testEnv();
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, stringify({
    clusters: [{ name: 'local', cluster: { server: env.info.server, 'certificate-authority-data': Buffer.from(caPem).toString('base64'), ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'x', context: { cluster: 'local', user: 'u' } }],
    'current-context': 'x',
  }));
  return file;
}

let admin: KubeApi;
let adminToken: string;
/** The API server's serving CA. */
let caPem: string;
let ns: string;

/** A ServiceAccount token bound to a Secret of that name (created here): deleting the Secret revokes it. */
async function boundToken(sa: string, secret: string): Promise<string> {
  await admin.request({ method: 'POST', path: `/api/v1/namespaces/${ns}/secrets`, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: secret } } });
  const review = await admin.request<{ status: { token: string } }>({
    method: 'POST',
    path: `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: secret } } },
  });
  return review.status.token;
}

/**
 * Deletes the Secret `token` is bound to, and waits until the API server refuses the token: it
 * caches a successful token authentication for a few seconds, so a revoked token works a little
 * longer (seen here: the next request after the deletion still succeeded).
 */
async function revoke(secret: string, token: string): Promise<void> {
  await admin.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}/secrets/${secret}` });
  const probe = fromKubeconfigFile(kubeconfig(join(dir, 'probe', secret), { token }));
  const deadline = Date.now() + 30_000;
  while ((await statusOf(whoAmI(probe))) !== 401) {
    if (Date.now() > deadline) throw new Error(`the token bound to ${secret} still works 30 s after its Secret was deleted`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  probe.close();
}

/** The bearer token `access` would send now. */
async function tokenOf(access: ClusterAccess): Promise<string> {
  const options: { headers: Record<string, string> } = { headers: {} };
  await access.applyToHTTPSOptions(options);
  return (options.headers.authorization ?? '').replace(/^Bearer /, '');
}

async function serviceAccount(name: string, rules: unknown[] = []): Promise<string> {
  await admin.request({ method: 'POST', path: `/api/v1/namespaces/${ns}/serviceaccounts`, body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } } });
  if (rules.length > 0) {
    await admin.request({ method: 'POST', path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules } });
    await admin.request({
      method: 'POST',
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
      body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace: ns }] },
    });
  }
  return `system:serviceaccount:${ns}:${name}`;
}

const readConfigMaps = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }];

describe('the operator\'s Kubernetes client against the real API server', () => {
  before(async () => {
    const env = testEnv();
    const adminConfig = fromKubeconfigFile(env.kubeconfigPath, 'admin');
    admin = new KubeApi(adminConfig, { requestMs: 10_000 });
    const file = parse(readFileSync(env.kubeconfigPath, 'utf8')) as { clusters: Array<{ cluster: { 'certificate-authority-data': string } }>; users: Array<{ name: string; user: { token: string } }> };
    adminToken = file.users.find((u) => u.name === 'admin')?.user.token ?? '';
    caPem = Buffer.from(file.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString('utf8');
    ns = await newNamespace(env, 'kube-client-auth');
    await admin.request({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'visible' }, data: { a: '1' } } });
  });

  it('authenticates with a client certificate signed by the API server\'s client CA (files relative to the kubeconfig), and not with one from another CA', async () => {
    const certs = join(dir, 'certs');
    mkdirSync(certs, { recursive: true });
    const cert = issueClientCert(clientCaOf(testEnv().info.stateDir), certs, 'alice', 'slsa-ml-cert-user', ['slsa-ml:cert-group']);
    writeFileSync(join(certs, 'alice.pem'), cert.cert);
    const access = fromKubeconfigFile(kubeconfig(join(certs, 'config'), { 'client-certificate': 'alice.pem', 'client-key': 'alice.key' }));
    const me = await whoAmI(access);
    assert.equal(me.username, 'slsa-ml-cert-user');
    assert.ok(me.groups?.includes('slsa-ml:cert-group'), JSON.stringify(me.groups));
    const strangerCa = makeClientCa(join(dir, 'stranger'));
    const stranger = issueClientCert(strangerCa, join(dir, 'stranger'), 'mallory', 'slsa-ml-cert-user');
    const refused = fromKubeconfigFile(kubeconfig(join(dir, 'stranger', 'config'), { 'client-certificate-data': Buffer.from(stranger.cert).toString('base64'), 'client-key-data': Buffer.from(stranger.key).toString('base64') }));
    assert.equal(await statusOf(whoAmI(refused)), 401);
    access.close();
    refused.close();
  });

  it('follows a token file rotated on disk: the old token revoked, the new one used without a restart', async () => {
    const user = await serviceAccount('rotating');
    const tokenFile = join(dir, 'rotating', 'token');
    mkdirSync(join(dir, 'rotating'), { recursive: true });
    const old = await boundToken('rotating', 'rotating-1');
    writeFileSync(tokenFile, old);
    const access = fromKubeconfigFile(kubeconfig(join(dir, 'rotating', 'config'), { tokenFile: 'token' }));
    assert.equal((await whoAmI(access)).username, user);
    // The kubelet's rotation: a new token in the file, then the old one stops working.
    writeFileSync(tokenFile, await boundToken('rotating', 'rotating-2'));
    await revoke('rotating-1', old);
    assert.equal((await whoAmI(access)).username, user, 'the 401 to the old token made the client read the file again');
    access.close();
  });

  it('runs an exec plugin for short-lived ServiceAccount tokens: once for concurrent requests, again after expiry, and again (one retry) when the token is revoked', async () => {
    const user = await serviceAccount('exec-sa', readConfigMaps);
    const count = join(dir, 'exec-count');
    writeFileSync(count, '0');
    const runs = (): number => Number(readFileSync(count, 'utf8'));
    const access = fromKubeconfigFile(kubeconfig(join(dir, 'exec', 'config'), {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: process.execPath,
        args: [PLUGIN],
        interactiveMode: 'Never',
        provideClusterInfo: true,
        installHint: 'the stand-in lives in test/support',
        env: [
          { name: 'PLUGIN_ADMIN_TOKEN', value: adminToken },
          { name: 'PLUGIN_NAMESPACE', value: ns },
          { name: 'PLUGIN_SERVICE_ACCOUNT', value: 'exec-sa' },
          { name: 'PLUGIN_COUNT', value: count },
          { name: 'PLUGIN_EXPIRES_SECONDS', value: '3' },
        ],
      },
    }));
    const api = new KubeApi(access, { requestMs: 10_000 });
    const me = await Promise.all([whoAmI(access), whoAmI(access), whoAmI(access)]);
    assert.deepEqual(me.map((m) => m.username), [user, user, user]);
    assert.equal(runs(), 1, 'three concurrent requests shared one plugin run');
    await new Promise((resolve) => setTimeout(resolve, 3500));
    assert.equal((await api.request<{ metadata: { name: string } }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/configmaps/visible` })).metadata.name, 'visible');
    assert.equal(runs(), 2, 'the expired credential was renewed');
    // Revoked before it expires: the API server's 401 makes the client run the plugin again and retry once.
    await revoke('exec-sa-run-2', await tokenOf(access));
    assert.equal((await whoAmI(access)).username, user);
    assert.equal(runs(), 3);
    // The same through list.ts (the reflector's LIST and watch requests).
    await revoke('exec-sa-run-3', await tokenOf(access));
    const names: string[] = [];
    await new KubeListWatch(access, `/api/v1/namespaces/${ns}/configmaps`).list((o) => names.push(o.metadata?.name ?? ''), new AbortController().signal);
    assert.ok(names.includes('visible'), JSON.stringify(names));
    assert.equal(runs(), 4);
    access.close();
  });

  it('impersonates with as/as-groups: an admin impersonating a limited ServiceAccount gets only its rights', async () => {
    const user = await serviceAccount('limited', readConfigMaps);
    const plain = fromKubeconfigFile(kubeconfig(join(dir, 'as', 'plain'), { token: adminToken }));
    const as = fromKubeconfigFile(kubeconfig(join(dir, 'as', 'config'), { token: adminToken, as: user, 'as-groups': ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] }));
    const secrets = { method: 'GET', path: `/api/v1/namespaces/${ns}/secrets` } as const;
    assert.equal(await statusOf(new KubeApi(plain).request(secrets)), 200, 'the admin itself may list Secrets');
    assert.equal((await whoAmI(as)).username, user);
    assert.equal(await statusOf(new KubeApi(as).request(secrets)), 403, 'impersonating, it may not');
    assert.equal(await statusOf(new KubeApi(as).request({ method: 'GET', path: `/api/v1/namespaces/${ns}/configmaps/visible` })), 200, 'what the ServiceAccount may do still works');
    plain.close();
    as.close();
  });

  it('in a Pod: the mounted ServiceAccount token and CA, the Service address from the environment, the token re-read after rotation', async () => {
    const user = await serviceAccount('in-cluster');
    const sa = join(dir, 'serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'ca.crt'), caPem);
    const old = await boundToken('in-cluster', 'in-cluster-1');
    writeFileSync(join(sa, 'token'), old);
    const server = new URL(testEnv().info.server);
    const access = inCluster({ KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port }, undefined, sa);
    assert.equal((await whoAmI(access)).username, user);
    writeFileSync(join(sa, 'token'), await boundToken('in-cluster', 'in-cluster-2'));
    await revoke('in-cluster-1', old);
    assert.equal((await whoAmI(access)).username, user);
    access.close();
  });
});
