// node --test --test-global-setup: one environment for the whole integration run. Reuses a
// running one when SLSA_ML_ENV names it (npm run env:up), else starts one and stops it after.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_FILE, readEnvInfo, startEnvironment, stopEnvironment, type EnvInfo } from '../../hack/env/environment.ts';
import { createBucket } from '../../hack/env/fake-gcs.ts';

let owned: EnvInfo | undefined;

export async function globalSetup(): Promise<void> {
  const existing = process.env.SLSA_ML_ENV;
  let info: EnvInfo;
  if (existing && existsSync(existing)) {
    info = readEnvInfo(existing);
    console.log(`# using the running environment ${existing}`);
  } else {
    // No fallback: if a component cannot start, the run fails here with that component's log.
    info = await startEnvironment().catch((err: unknown) => {
      console.error(`# the local environment could not start, so no integration test ran: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    });
    owned = info;
    process.env.SLSA_ML_ENV = join(info.stateDir, ENV_FILE);
  }
  process.env.SLSA_ML_TEST_BUCKET = `slsa-ml-test-${randomBytes(4).toString('hex')}`;
  await createBucket(info.gcsEndpoint, process.env.SLSA_ML_TEST_BUCKET, 'slsa-ml-test');
  console.log(`# kube-apiserver ${info.kubeVersion} at ${info.server}; Tekton ${info.tektonVersion} and KServe ${info.kserveVersion} CRDs; fake-gcs-server at ${info.gcsEndpoint}`);
  console.log(`# environment start-up: ${JSON.stringify(info.startupMs)}`);
}

export async function globalTeardown(): Promise<void> {
  // Re-read: a test may have restarted a component, which records its new pid there.
  if (owned) await stopEnvironment(readEnvInfo(join(owned.stateDir, ENV_FILE)));
}
