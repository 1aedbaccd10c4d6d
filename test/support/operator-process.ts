// Runs the real operator (`node operator/bin.ts operator`) as a child process under the
// 'operator' identity, whose rights come only from manifests/base RBAC bound by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { freePort } from '../../hack/env/ports.ts';
import type { TestEnv } from '../harness/index.ts';

const repo = join(import.meta.dirname, '..', '..');

export interface SigningKeys {
  readonly dir: string;
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  readonly publicKeyPem: string;
}

export function generateSigningKeys(): SigningKeys {
  const dir = mkdtempSync(join(tmpdir(), 'slsa-ml-keys-'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPath = join(dir, 'cosign.key');
  const publicKeyPath = join(dir, 'cosign.pub');
  writeFileSync(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(publicKeyPath, publicKeyPem);
  return { dir, privateKeyPath, publicKeyPath, publicKeyPem };
}

/** Applies manifests/base/rbac.yaml (and the operator namespace) as the admin. */
export async function applyOperatorRbac(env: TestEnv): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(env.kubeConfig('admin'));
  const docs: KubernetesObject[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'slsa-ml-system' } }];
  for (const file of ['rbac.yaml']) {
    for (const doc of parseAllDocuments(readFileSync(join(repo, 'manifests', 'base', file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      docs.push(doc.toJS() as KubernetesObject);
    }
  }
  for (const doc of docs) await objects.patch(doc, undefined, undefined, 'slsa-ml-test', true, PatchStrategy.ServerSideApply);
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves once it serves /metrics; rejects with its output if it exits first. */
  ready(timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A kubeconfig for the operator identity alone (no admin credentials reach the operator). */
function operatorKubeconfig(env: TestEnv, dir: string): string {
  const kc = env.kubeConfig('operator');
  const path = join(dir, 'kubeconfig');
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  writeFileSync(path, stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server: cluster?.server, 'certificate-authority-data': cluster?.caData } }],
    users: [{ name: 'operator', user: { token: user?.token } }],
    contexts: [{ name: 'operator', context: { cluster: 'local', user: 'operator' } }],
    'current-context': 'operator',
  }), { mode: 0o600 });
  return path;
}

const running = new Set<ChildProcess>();
// A failing test must not leave operators behind (they would also keep the test process alive).
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

/** Kills every operator a test file started and has not stopped; for after() hooks. */
export async function stopAllOperators(): Promise<void> {
  await Promise.all([...running].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  })));
}

/**
 * The operator as the Tekton tests run it: its RBAC applied, a fresh local signing key, fake GCS
 * under `gs://<bucket>/<prefix>/`, no leader election; resolves once it is ready.
 */
export async function startKeySignedOperator(env: TestEnv, prefix: string): Promise<{ operator: OperatorProcess; keys: SigningKeys }> {
  await applyOperatorRbac(env);
  const keys = generateSigningKeys();
  const operator = await startOperator(env, {
    allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
    storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
    signer: { kind: 'key', keyPath: keys.privateKeyPath },
    builderId: 'https://slsa-ml.dev/operator/test',
    leaderElection: { enabled: false },
  });
  await operator.ready();
  return { operator, keys };
}

export async function startOperator(env: TestEnv, config: Record<string, unknown>, extraEnv: Record<string, string> = {}): Promise<OperatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'slsa-ml-operator-'));
  const configPath = join(dir, 'config.yaml');
  const port = await freePort();
  writeFileSync(configPath, stringify({ http: { port, host: '127.0.0.1' }, ...config }));
  const child = spawn(process.execPath, [join(repo, 'operator', 'bin.ts'), 'operator', '--config', configPath], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KUBECONFIG: operatorKubeconfig(env, dir), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    running.delete(child);
    resolve(code);
  }));
  return {
    child,
    port,
    output: () => output,
    exited,
    async ready(timeoutMs = 20_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      const serving = (): Promise<boolean> => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      while (!(await serving())) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`operator exited during start-up:\n${output}`);
        if (Date.now() > deadline) throw new Error(`operator not serving after ${timeoutMs} ms:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
