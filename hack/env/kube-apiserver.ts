// A real kube-apiserver on loopback with RBAC, static token identities and a client CA. The scheduler,
// Tekton and kwok (the kubelets) run beside it (cluster.ts); kube-controller-manager does not.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { makeClientCa } from './client-ca.ts';
import { tokenFile, type Identity } from './identities.ts';
import { freePort } from './ports.ts';
import { startDetached, waitReady, type Started } from './processes.ts';

export interface ApiServerHandle extends Started {
  readonly server: string;
  /** PEM of the self-signed serving certificate chain, to trust in kubeconfigs. */
  readonly caPem: string;
}

export async function startKubeApiserver(
  binary: string,
  stateDir: string,
  etcdURL: string,
  identities: readonly Identity[],
): Promise<ApiServerHandle> {
  const port = await freePort();
  const saKey = join(stateDir, 'service-account.key');
  const saPub = join(stateDir, 'service-account.pub');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(saKey, privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
  writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  const tokens = join(stateDir, 'tokens.csv');
  writeFileSync(tokens, tokenFile(identities), { mode: 0o600 });
  const certDir = join(stateDir, 'apiserver-certs');
  const clientCa = makeClientCa(stateDir);
  const proc = startDetached('kube-apiserver', binary, [
    `--etcd-servers=${etcdURL}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${saPub}`,
    `--service-account-signing-key-file=${saKey}`,
    '--authorization-mode=RBAC',
    `--token-auth-file=${tokens}`,
    // Client certificates as real clusters' kubeconfigs carry them (test/integration/kube-client-auth.test.ts).
    `--client-ca-file=${clientCa.certPath}`,
    // TaintNodesByCondition taints every new Node not-ready until the node lifecycle controller
    // (kube-controller-manager, not run here) lifts it; kwok's nodes would stay unschedulable.
    '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
    '--endpoint-reconciler-type=none',
    '--v=0',
  ], join(stateDir, 'kube-apiserver.log'));
  const server = `https://127.0.0.1:${port}`;
  const admin = identities.find((i) => i.name === 'admin');
  if (!admin) throw new Error('kube-apiserver: no admin identity');
  await waitReady(proc, () => readyz(server, admin.token), 90_000);
  return { ...proc, server, caPem: readFileSync(join(certDir, 'apiserver.crt'), 'utf8') };
}

// Health probing only: the serving certificate is self-signed and written during start-up.
async function readyz(server: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${server}/readyz`, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  });
}
