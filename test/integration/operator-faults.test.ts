// Fault injection: our own TCP proxy in front of fake-gcs-server and the KMS stand-in refuses,
// hangs, drips and resets, while the real operator works through a burst. Every scenario checks
// 0 lost (all runs signed once the fault clears, within a stated bound), 0 duplicates (one bundle
// and one envelope per model, one Event per run) and 0 false "signed" (nothing signed during the
// fault, and every signed run's provenance verifies with the operator's key). Deadlines are set
// short so the suite runs in seconds; SIGKILLs, a kube-apiserver restart and a leader SIGKILL are
// in operator-resilience.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { testEnv, uniqueName } from '../harness/index.ts';
import { assertStoredOnce, outcomes, prepareBurst, stopBursts, waitAllDecided, type Burst, type BurstRun } from '../support/burst.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startKmsStandin, type KmsStandin } from '../support/kms-standin.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { isDone, tektonNamespace, waitForRun } from '../support/tekton-runs.ts';
import { finishRunByHand, modelOutput, sha256, uploadModel } from '../support/training-run.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const prefix = uniqueName('faults');
const TASKRUNS = { group: 'tekton.dev', version: 'v1', plural: 'taskruns' } as const;
/** After a fault clears, every run is decided within this bound (backoff is capped at 2 s here). */
const RECOVERY_MS = 60_000;
const MAX_HOLD_SECONDS = 20;

let keys: SigningKeys;

function operatorConfig(gcsEndpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
    storage: { gcs: { apiEndpoint: gcsEndpoint } },
    signer: { kind: 'key', keyPath: keys.privateKeyPath },
    builderId: 'https://slsa-ml.dev/operator/test',
    leaderElection: { enabled: false },
    retry: { initialDelayMs: 200, maxDelayMs: 2000, budgetMs: 300_000 },
    deadlines: { requestSeconds: 2, readStallSeconds: 2, reconcileSeconds: 8 },
    finalizer: { enabled: true, maxHoldSeconds: MAX_HOLD_SECONDS },
    ...extra,
  };
}

function gcsTarget(): { host: string; port: number } {
  const url = new URL(env.gcsEndpoint);
  return { host: url.hostname, port: Number(url.port) };
}

async function healthz(operator: OperatorProcess): Promise<number> {
  return (await fetch(`http://127.0.0.1:${operator.port}/healthz`)).status;
}

async function metric(operator: OperatorProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.split(' ').pop() ?? NaN);
}

/** Runs whose Task declares a model output, running (so they carry the finalizer once the operator sees them); then finished. */
async function heldBurst(ns: string, count: number, size = 256): Promise<Burst> {
  return prepareBurst(env, admin, { namespace: ns, prefix, count, modelBytes: size });
}

async function waitHeld(ns: string, runs: readonly BurstRun[]): Promise<void> {
  const api = admin.makeApiClient(CustomObjectsApi);
  for (const run of runs) {
    for (let i = 0; ; i++) {
      const tr = (await api.getNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: run.name })) as { metadata: { finalizers?: string[] } };
      if (tr.metadata.finalizers?.includes('slsa-ml.dev/provenance')) break;
      assert.ok(i < 100, `${run.name} never got the finalizer`);
      await sleep(100);
    }
  }
}

/** 0 lost, 0 duplicates, 0 false signed, once the fault has cleared. */
async function assertRecovered(ns: string, runs: readonly BurstRun[], operator: OperatorProcess): Promise<void> {
  const observed = await waitAllDecided(admin, ns, runs, RECOVERY_MS);
  assert.deepEqual({ failed: observed.failed, pending: observed.pending }, { failed: [], pending: [] }, operator.output().slice(-3000));
  await assertStoredOnce(env, admin, ns, runs, keys.publicKeyPem);
  const events = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
  const stored = events.items.filter((e) => e.reason === 'ProvenanceStored').map((e) => e.involvedObject.name).sort();
  assert.deepEqual(stored, runs.map((r) => r.name).sort(), 'one ProvenanceStored Event per run');
  assertJsonLog(operator);
}

/** Every line the operator wrote is one JSON object (library warnings included). */
function assertJsonLog(operator: OperatorProcess): void {
  for (const line of operator.output().split('\n').filter((l) => l.trim() !== '')) {
    assert.doesNotThrow(() => JSON.parse(line) as unknown, `not a JSON log line: ${line}`);
  }
}

describe('the operator under storage and KMS faults', () => {
  before(async () => {
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
  });
  after(async () => {
    await stopBursts();
    await stopAllOperators();
  });

  it('when Cloud Storage hangs: nothing is signed, workers stay free, deleted runs are released within maxHoldSeconds, and all is signed once it answers', async () => {
    const ns = await tektonNamespace(env, 'fault-hang');
    const proxy = await startFaultProxy(gcsTarget());
    const operator = await startOperator(env, operatorConfig(proxy.endpoint, { workers: 2 }));
    try {
      await operator.ready();
      const { runs, finish } = await heldBurst(ns, 6);
      await waitHeld(ns, runs);
      proxy.set('hang');
      await finish();
      await sleep(10_000); // longer than an attempt's deadline: attempts are cut and retried
      assert.deepEqual((await outcomes(admin, ns, runs)).pending.length, 6, 'nothing decided while storage hangs');
      assert.equal(await healthz(operator), 200, 'workers are not wedged: attempts end at their deadline');
      assert.ok(proxy.counts.held > 0, 'the proxy held connections');
      assert.ok(await metric(operator, 'slsa_ml_retries_total') > 0, 'attempts were retried');
      assert.ok(await metric(operator, 'slsa_ml_oldest_attempt_seconds') < 8 + 4 * 2, 'no attempt outlives its deadline');

      // Deleted during the hang: released within maxHoldSeconds, without provenance.
      const [gone, kept] = [runs.slice(0, 2), runs.slice(2)];
      const api = admin.makeApiClient(CustomObjectsApi);
      const deletedAt = Date.now();
      for (const run of gone) await api.deleteNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: run.name });
      for (const run of gone) {
        for (;;) {
          const exists = await api.getNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: run.name }).then(() => true, () => false);
          if (!exists) break;
          assert.ok(Date.now() - deletedAt < MAX_HOLD_SECONDS * 1000, `${run.name} still held after ${MAX_HOLD_SECONDS}s`);
          await sleep(200);
        }
      }
      proxy.set('pass');
      await assertRecovered(ns, kept, operator);
    } finally {
      await operator.stop('SIGTERM');
      await proxy.close();
    }
  });

  it('when Cloud Storage refuses connections, it retries and signs everything once they are accepted again', async () => {
    const ns = await tektonNamespace(env, 'fault-refuse');
    const proxy = await startFaultProxy(gcsTarget());
    const operator = await startOperator(env, operatorConfig(proxy.endpoint));
    try {
      await operator.ready();
      const { runs, finish } = await prepareBurst(env, admin, { namespace: ns, prefix, count: 5 });
      proxy.set('refuse');
      await finish();
      await sleep(4000);
      assert.equal((await outcomes(admin, ns, runs)).pending.length, 5, 'nothing decided while refused');
      assert.ok(proxy.counts.refused > 0);
      proxy.set('pass');
      await assertRecovered(ns, runs, operator);
    } finally {
      await operator.stop('SIGTERM');
      await proxy.close();
    }
  });

  // Tekton completes a run only now, so the run that completed an hour ago has a hand-written status.
  it('counts the retry budget from the run\'s completion: an old run fails after three attempts, a fresh one keeps retrying (the old run\'s status is hand-written)', async () => {
    const ns = await tektonNamespace(env, 'fault-budget');
    const proxy = await startFaultProxy(gcsTarget());
    const operator = await startOperator(env, operatorConfig(proxy.endpoint, { retry: { initialDelayMs: 200, maxDelayMs: 500, budgetMs: 60_000 } }));
    try {
      await operator.ready();
      const freshBurst = await prepareBurst(env, admin, { namespace: ns, prefix, count: 1, namePrefix: 'fresh' });
      const [fresh] = freshBurst.runs as [BurstRun];
      const oldModel = Buffer.from(`model ${ns} old\n`);
      const old: BurstRun = { name: 'old', modelUri: await uploadModel(env, `${prefix}/${ns}/old/pytorch_model.pth`, oldModel) };
      proxy.set('refuse');
      await finishRunByHand(env, ns, old.name, [modelOutput(old.modelUri, sha256(oldModel))], { completedAgoMs: 3_600_000 });
      await freshBurst.finish();
      // Completed by Tekton before the window in which it must still be retried.
      await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: fresh.name }, isDone);
      const [decided] = await Promise.all([waitAllDecided(admin, ns, [old], 30_000), sleep(3000)]);
      assert.deepEqual(decided.failed, [old.name], operator.output().slice(-2000));
      const api = admin.makeApiClient(CustomObjectsApi);
      const oldRun = (await api.getNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: old.name })) as { metadata: { annotations: Record<string, string> } };
      assert.match(oldRun.metadata.annotations['slsa-ml.dev/reason'] ?? '', /^RETRY_BUDGET_EXHAUSTED: still failing \d+s after the run completed/);
      assert.deepEqual((await outcomes(admin, ns, [fresh])).pending, [fresh.name], 'the fresh run is still being retried');
      proxy.set('pass');
      await assertRecovered(ns, [fresh], operator);
    } finally {
      await operator.stop('SIGTERM');
      await proxy.close();
    }
  });

  it('when Cloud Storage answers slowly but steadily, reads longer than a request deadline still complete', async () => {
    const ns = await tektonNamespace(env, 'fault-drip');
    const proxy = await startFaultProxy(gcsTarget());
    const operator = await startOperator(env, operatorConfig(proxy.endpoint));
    try {
      await operator.ready();
      // 12 KiB at ~3 KiB/s: each model takes about 4 s to read, twice the request deadline.
      const { runs, finish } = await prepareBurst(env, admin, { namespace: ns, prefix, count: 2, modelBytes: 12 * 1024 });
      proxy.set('drip', { dripBytes: 64, dripIntervalMs: 20 });
      await finish();
      await assertRecovered(ns, runs, operator);
      assert.equal(await metric(operator, 'slsa_ml_failures_total{reason="DEADLINE_EXCEEDED"}'), 0);
    } finally {
      await operator.stop('SIGTERM');
      await proxy.close();
    }
  });

  it('when Cloud Storage resets connections mid-body, the reads are retried and nothing half-read is signed', async () => {
    const ns = await tektonNamespace(env, 'fault-reset');
    const proxy = await startFaultProxy(gcsTarget());
    const operator = await startOperator(env, operatorConfig(proxy.endpoint));
    try {
      await operator.ready();
      const { runs, finish } = await prepareBurst(env, admin, { namespace: ns, prefix, count: 4, modelBytes: 256 * 1024 });
      proxy.set('reset', { resetAfterBytes: 16 * 1024 });
      await finish();
      await sleep(5000);
      assert.ok(proxy.counts.reset > 0, 'model reads were reset');
      assert.equal((await outcomes(admin, ns, runs)).signed.length, 0, 'no model read only in part was signed');
      proxy.set('pass');
      await assertRecovered(ns, runs, operator);
    } finally {
      await operator.stop('SIGTERM');
      await proxy.close();
    }
  });

  it('when Cloud KMS hangs, attempts end at their deadline and everything is signed once KMS answers', async () => {
    const ns = await tektonNamespace(env, 'fault-kms');
    const kms: KmsStandin = await startKmsStandin();
    const kmsUrl = new URL(kms.endpoint);
    const proxy: FaultProxy = await startFaultProxy({ host: kmsUrl.hostname, port: Number(kmsUrl.port) });
    const dir = mkdtempSync(join(tmpdir(), 'fault-kms-'));
    const sealPath = join(dir, 'seal.key');
    writeFileSync(sealPath, `${randomBytes(48).toString('base64')}\n`, { mode: 0o600 });
    const kmsKeys = { ...keys, publicKeyPem: kms.publicKeyPem };
    // The signer reads the public key at start: let that through, then hang.
    const operator = await startOperator(env, operatorConfig(env.gcsEndpoint, {
      signer: { kind: 'kms', keyName: kms.keyName, apiEndpoint: proxy.endpoint },
      seal: { keyPath: sealPath },
    }));
    try {
      await operator.ready();
      const { runs, finish } = await prepareBurst(env, admin, { namespace: ns, prefix, count: 3 });
      proxy.set('hang');
      await finish();
      await sleep(10_000);
      assert.equal((await outcomes(admin, ns, runs)).pending.length, 3, 'nothing signed while KMS hangs');
      assert.equal(await healthz(operator), 200);
      proxy.set('pass');
      const observed = await waitAllDecided(admin, ns, runs, RECOVERY_MS);
      assert.deepEqual({ failed: observed.failed, pending: observed.pending }, { failed: [], pending: [] }, operator.output().slice(-3000));
      await assertStoredOnce(env, admin, ns, runs, kmsKeys.publicKeyPem);
      assertJsonLog(operator);
    } finally {
      await operator.stop('SIGTERM');
      await proxy.close();
      await kms.close();
    }
  });
});
