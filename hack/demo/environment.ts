// The local environment (etcd, kube-apiserver with the Tekton CRDs, the Tekton controller and
// resolvers, kube-scheduler, kwok's fake GKE nodes, fake-gcs-server), one bucket in
// fake-gcs-server, and the operator's RBAC from manifests/base — seen through the same
// TestEnv interface the integration tests use, so their helpers work unchanged.
import { startEnvironment, stopEnvironment } from '../env/environment.ts';
import { createBucket } from '../env/fake-gcs.ts';
import { envClients, type TestEnv } from '../../test/harness/index.ts';
import { applyOperatorRbac } from '../../test/support/operator-process.ts';
import { onCleanup } from './cleanup.ts';

export const PROJECT_ID = 'slsa-ml-demo';

export async function startDemoEnvironment(bucket: string): Promise<TestEnv> {
  const info = await startEnvironment();
  onCleanup('the local environment', () => stopEnvironment(info));
  const env = envClients(info, bucket, PROJECT_ID);
  await createBucket(info.gcsEndpoint, bucket, PROJECT_ID);
  await applyOperatorRbac(env);
  return env;
}
