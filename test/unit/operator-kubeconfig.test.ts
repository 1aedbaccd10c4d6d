// The operator's own kubeconfig handling (operator/kube/kubeconfig.ts): which file or in-cluster
// account it uses, what each request carries, and that a rotated ServiceAccount token is picked up.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { KubeApi } from '../../operator/kube/api.ts';
import { fromKubeconfigFile, inCluster, loadKubeConfig } from '../../operator/kube/kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));

function kubeconfig(name: string, doc: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(doc));
  return path;
}

async function applied(access: { applyToHTTPSOptions(o: RequestOptions): Promise<void> }): Promise<RequestOptions & { headers?: Record<string, string> }> {
  const options: RequestOptions = { headers: { accept: 'application/json' } };
  await access.applyToHTTPSOptions(options);
  return options as RequestOptions & { headers?: Record<string, string> };
}

const twoContexts = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'local', cluster: { server: 'https://127.0.0.1:6443/', 'certificate-authority': 'ca.pem' } }],
  users: [{ name: 'admin', user: { token: 'admin-token' } }, { name: 'operator', user: { tokenFile: 'operator.token' } }],
  contexts: [{ name: 'admin', context: { cluster: 'local', user: 'admin' } }, { name: 'operator', context: { cluster: 'local', user: 'operator' } }],
  'current-context': 'admin',
};
writeFileSync(join(dir, 'ca.pem'), 'CA');
writeFileSync(join(dir, 'operator.token'), 'operator-token\n');

describe('the operator\'s kubeconfig', () => {
  it('uses the current context, or the one named, with files relative to the kubeconfig', async () => {
    const path = kubeconfig('two.yaml', twoContexts);
    const admin = fromKubeconfigFile(path);
    assert.equal(admin.getCurrentCluster().server, 'https://127.0.0.1:6443');
    assert.equal((await applied(admin)).headers?.authorization, 'Bearer admin-token');
    const operator = fromKubeconfigFile(path, 'operator');
    assert.deepEqual((await applied(operator)).headers, { accept: 'application/json', authorization: 'Bearer operator-token' });
    assert.ok((await applied(operator)).agent, 'every request gets the pooled agent');
  });

  it('talks to a plain-HTTP server as kubectl does (kubectl proxy), where an HTTPS agent would fail "Protocol http: not supported"', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ gitVersion: 'v1.34.4', path: req.url, authorization: req.headers.authorization ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const path = kubeconfig('http.yaml', { ...twoContexts, clusters: [{ name: 'local', cluster: { server: `http://127.0.0.1:${port}` } }] });
      const access = fromKubeconfigFile(path);
      const answer = await new KubeApi(access, { requestMs: 5000 }).request<{ gitVersion: string; path: string; authorization: string | null }>({ method: 'GET', path: '/version' });
      assert.deepEqual(answer, { gitVersion: 'v1.34.4', path: '/version', authorization: 'Bearer admin-token' });
      access.close();
    } finally {
      server.close();
    }
  });

  it('names what is missing: a context, or a cluster without a server', () => {
    const path = kubeconfig('two.yaml', twoContexts);
    assert.throws(() => fromKubeconfigFile(path, 'nope'), /no context "nope"/);
    const broken = kubeconfig('broken.yaml', { ...twoContexts, clusters: [{ name: 'local', cluster: {} }] });
    assert.throws(() => fromKubeconfigFile(broken), /names cluster "local", which has no server/);
    const provider = kubeconfig('provider.yaml', { ...twoContexts, users: [{ name: 'admin', user: { 'auth-provider': { name: 'gcp' } } }] });
    assert.throws(() => fromKubeconfigFile(provider), /auth-provider/);
  });

  it('takes $KUBECONFIG first (the first file of a list), and names a file that is not there', () => {
    const path = kubeconfig('env.yaml', twoContexts);
    assert.equal(loadKubeConfig(undefined, { KUBECONFIG: `${path}:${join(dir, 'other')}` }).server, 'https://127.0.0.1:6443');
    assert.throws(() => loadKubeConfig(undefined, { KUBECONFIG: join(dir, 'missing') }), /missing/);
  });

  it('runs an exec credential plugin for a token', async () => {
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}\'\n');
    chmodSync(plugin, 0o755);
    const path = kubeconfig('exec.yaml', { ...twoContexts, users: [{ name: 'admin', user: { exec: { command: './plugin.sh', apiVersion: 'client.authentication.k8s.io/v1' } } }] });
    assert.equal((await applied(fromKubeconfigFile(path))).headers?.authorization, 'Bearer from-plugin');
  });

  describe('inside a Pod', () => {
    it('uses the ServiceAccount token and CA, and the API server Service address', async () => {
      const sa = join(dir, 'serviceaccount');
      mkdirSync(sa, { recursive: true });
      writeFileSync(join(sa, 'token'), 'sa-token');
      writeFileSync(join(sa, 'ca.crt'), 'CA');
      const config = inCluster({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, undefined, sa);
      assert.equal(config.server, 'https://10.0.0.1:443');
      assert.equal((await applied(config)).headers?.authorization, 'Bearer sa-token');
      assert.equal(inCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, undefined, sa).server, 'https://[fd00::1]:443');
    });

    it('fails at start-up when no token is mounted', () => {
      assert.throws(() => inCluster({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, undefined, join(dir, 'no-such-dir')), /ENOENT/);
    });
  });
});
