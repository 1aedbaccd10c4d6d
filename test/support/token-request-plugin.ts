// A client-go exec credential plugin standing in for gke-gcloud-auth-plugin in tests
// (test/integration/kube-client-auth.test.ts): each run creates a Secret and hands out a
// ServiceAccount token bound to it (TokenRequest), so a test revokes one run's token by deleting
// that run's Secret. It finds the API server as a real plugin would with provideClusterInfo
// (KUBERNETES_EXEC_INFO's spec.cluster), counts its runs in PLUGIN_COUNT, and claims that its
// first token expires after PLUGIN_EXPIRES_SECONDS, later ones after 10 minutes (each token is
// valid for 10 minutes: the claimed expiry is what the client acts on).
//   env: PLUGIN_ADMIN_TOKEN, PLUGIN_NAMESPACE, PLUGIN_SERVICE_ACCOUNT, PLUGIN_COUNT, PLUGIN_EXPIRES_SECONDS
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`token-request-plugin: ${name} is not set`);
  return v;
};

interface ExecInfo { apiVersion: string; spec: { cluster?: { server: string; 'certificate-authority-data'?: string } } }
const info = JSON.parse(env('KUBERNETES_EXEC_INFO')) as ExecInfo;
const cluster = info.spec.cluster;
if (!cluster) throw new Error('token-request-plugin: no spec.cluster in KUBERNETES_EXEC_INFO (provideClusterInfo is off)');
const ca = Buffer.from(cluster['certificate-authority-data'] ?? '', 'base64');

function call<T>(method: string, path: string, body: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(`${cluster?.server ?? ''}${path}`, { method, ca, timeout: 10_000, headers: { authorization: `Bearer ${env('PLUGIN_ADMIN_TOKEN')}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString('utf8'); });
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(JSON.parse(text) as T) : reject(new Error(`${method} ${path}: ${res.statusCode ?? 0} ${text}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const countFile = env('PLUGIN_COUNT');
const n = Number(readFileSync(countFile, 'utf8')) + 1;
writeFileSync(countFile, String(n));
const ns = env('PLUGIN_NAMESPACE');
const sa = env('PLUGIN_SERVICE_ACCOUNT');
const secret = `${sa}-run-${n}`;
await call('POST', `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: secret } });
const review = await call<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenRequest',
  spec: { expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: secret } },
});
process.stdout.write(JSON.stringify({
  apiVersion: info.apiVersion,
  kind: 'ExecCredential',
  status: { token: review.status.token, expirationTimestamp: new Date(Date.now() + (n === 1 ? Number(env('PLUGIN_EXPIRES_SECONDS')) : 600) * 1000).toISOString() },
}));
