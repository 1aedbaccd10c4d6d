// The local environment (etcd, kube-apiserver with the Tekton CRDs, fake-gcs-server), one bucket
// in fake-gcs-server, and the operator's RBAC from manifests/base — seen through the same
// TestEnv interface the integration tests use, so their helpers work unchanged.
import { KubeConfig } from '@kubernetes/client-node';
import { Storage } from '@google-cloud/storage';
import { startEnvironment, stopEnvironment, type EnvInfo } from '../env/environment.ts';
import type { Identity, TestEnv } from '../../test/harness/index.ts';
import { applyOperatorRbac } from '../../test/support/operator-process.ts';
import { onCleanup } from './cleanup.ts';

export const PROJECT_ID = 'slsa-ml-demo';

export function asTestEnv(info: EnvInfo, bucket: string): TestEnv {
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
    storageClient: (): Storage => new Storage({ apiEndpoint: info.gcsEndpoint, projectId: PROJECT_ID }),
  };
}

async function createBucket(endpoint: string, name: string): Promise<void> {
  const res = await fetch(`${endpoint}/storage/v1/b?project=${PROJECT_ID}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!res.ok) throw new Error(`fake-gcs-server: creating bucket ${name} failed: ${res.status} ${await res.text()}`);
}

export async function startDemoEnvironment(bucket: string): Promise<TestEnv> {
  const info = await startEnvironment();
  onCleanup('the local environment', () => stopEnvironment(info));
  const env = asTestEnv(info, bucket);
  await createBucket(info.gcsEndpoint, bucket);
  await applyOperatorRbac(env);
  return env;
}
