import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { startEnvironment, stopEnvironment } from '../../hack/env/environment.ts';
import { isAlive } from '../../hack/env/processes.ts';
import { testEnv } from '../harness/index.ts';

describe('the local environment itself', () => {
  it('starts a second, independent environment beside the running one and stops it without leftovers', async () => {
    const first = testEnv().info;
    const second = await startEnvironment();
    try {
      assert.notEqual(second.server, first.server);
      assert.notEqual(second.gcsEndpoint, first.gcsEndpoint);
      const kc = new KubeConfig();
      kc.loadFromFile(second.kubeconfig);
      assert.match((await kc.makeApiClient(VersionApi).getCode()).gitVersion, /^v1\.34\./);
      assert.ok(second.processes.every((p) => isAlive(p.pid)));
      assert.ok(second.kserveCrds.includes('inferenceservices.serving.kserve.io') && second.kserveCrds.includes('clusterstoragecontainers.serving.kserve.io'), second.kserveCrds.join(', '));
    } finally {
      await stopEnvironment(second);
    }
    assert.deepEqual(second.processes.filter((p) => isAlive(p.pid)).map((p) => p.name), []);
    assert.equal(existsSync(second.stateDir), false, 'temporary state removed');
    // The first environment is untouched.
    assert.ok(first.processes.every((p) => isAlive(p.pid)));
  });
});
