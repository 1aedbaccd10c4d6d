// What an integration test gets: the environment started by global-setup.ts, clients for each
// identity, and its own namespace and bucket prefix so tests never see each other's objects.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { TENANT_ROLE } from '../../hack/env/bootstrap-rbac.ts';
import { Storage } from '@google-cloud/storage';
import { readEnvInfo, type EnvInfo } from '../../hack/env/environment.ts';

export type Identity = 'admin' | 'restricted' | 'operator' | 'tenant';

export interface TestEnv {
  readonly info: EnvInfo;
  readonly kubeconfigPath: string;
  readonly kubeVersion: string;
  readonly gcsEndpoint: string;
  /** One fake-gcs-server bucket per test run; give each test its own prefix (uniqueName). */
  readonly bucket: string;
  kubeConfig(identity: Identity): KubeConfig;
  storageClient(): Storage;
}

let cached: TestEnv | undefined;

export function testEnv(): TestEnv {
  if (cached) return cached;
  const envFile = process.env.SLSA_ML_ENV;
  const bucket = process.env.SLSA_ML_TEST_BUCKET;
  if (!envFile || !bucket) {
    throw new Error('no test environment: run integration tests with `npm run test:integration` (its global setup starts one)');
  }
  cached = envClients(readEnvInfo(envFile), bucket, 'slsa-ml-test');
  return cached;
}

/** Clients for each identity and for fake GCS, over a running environment. */
export function envClients(info: EnvInfo, bucket: string, projectId: string): TestEnv {
  return {
    info,
    kubeconfigPath: info.kubeconfig,
    kubeVersion: info.kubeVersion,
    gcsEndpoint: info.gcsEndpoint,
    bucket,
    kubeConfig(identity: Identity): KubeConfig {
      const kc = new KubeConfig();
      kc.loadFromFile(info.kubeconfig);
      kc.setCurrentContext(identity);
      return kc;
    },
    storageClient(): Storage {
      return new Storage({ apiEndpoint: info.gcsEndpoint, projectId });
    },
  };
}

export function uniqueName(hint: string): string {
  const base = hint.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `${base || 't'}-${randomBytes(3).toString('hex')}`;
}

export async function newNamespace(env: TestEnv, hint: string): Promise<string> {
  const name = uniqueName(hint);
  await env.kubeConfig('admin').makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/** Makes the tenant identity a tenant of `namespace` (and of nothing else). */
export async function bindTenant(env: TestEnv, namespace: string): Promise<void> {
  await env.kubeConfig('admin').makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'tenant' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: TENANT_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: env.info.identities.tenant ?? 'slsa-ml-tenant' }],
    },
  });
}
