import assert from 'node:assert/strict';

import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { restartComponent } from '../../hack/env/environment.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { assertStoredOnce as storedOnce, prepareBurst, stopBursts, waitAllDecided as waitAll, type BurstRun, type Observed } from '../support/burst.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { tektonNamespace } from '../support/tekton-runs.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const prefix = uniqueName('resilience');
let keys: SigningKeys;

function operatorConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
    storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
    signer: { kind: 'key', keyPath: keys.privateKeyPath },
    builderId: 'https://slsa-ml.dev/operator/test',
    leaderElection: { enabled: false },
    retry: { initialDelayMs: 200, maxDelayMs: 2000, budgetMs: 120_000 },
    ...extra,
  };
}

const waitAllDecided = (ns: string, runs: readonly BurstRun[], timeoutMs: number): Promise<Observed> => waitAll(admin, ns, runs, timeoutMs);
const assertStoredOnce = (ns: string, runs: readonly BurstRun[]): Promise<void> => storedOnce(env, admin, ns, runs, keys.publicKeyPem);

describe('operator resilience', () => {
  before(async () => {
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
  });
  after(async () => {
    await stopBursts();
    await stopAllOperators();
  });

  it('attests every one of 50 TaskRuns exactly once although it is SIGKILLed several times mid-burst', async () => {
    const ns = await tektonNamespace(env, 'crash');
    const { runs, finish } = await prepareBurst(env, admin, { namespace: ns, prefix, count: 50 });
    let operator: OperatorProcess = await startOperator(env, operatorConfig({ workers: 4 }));
    await operator.ready();
    await sleep(1500); // started and listing
    await finish();
    const kills = [300, 500, 700, 900];
    for (const delay of kills) {
      await sleep(delay);
      await operator.stop('SIGKILL');
      operator = await startOperator(env, operatorConfig({ workers: 4 }));
    }
    // The last one finishes the burst; its SIGTERM below must meet a started operator, not one still loading.
    await operator.ready();
    const observed = await waitAllDecided(ns, runs, 60_000);
    const code = await operator.stop('SIGTERM');
    assert.deepEqual({ failed: observed.failed, pending: observed.pending }, { failed: [], pending: [] }, operator.output().slice(-3000));
    assert.equal(observed.signed.length, 50);
    assert.equal(code, 0);
    await assertStoredOnce(ns, runs);
  });

  it('keeps watching through a kube-apiserver restart in the middle of a burst', async () => {
    const ns = await tektonNamespace(env, 'apiserver-restart');
    const first = await prepareBurst(env, admin, { namespace: ns, prefix, count: 10 });
    const operator = await startOperator(env, operatorConfig({ watch: { relistSeconds: 300, stallSeconds: 30 } }));
    await operator.ready();
    await sleep(1500);
    await first.finish();
    await restartComponent(process.env.SLSA_ML_ENV ?? '', 'kube-apiserver', () => sleep(1000));
    const deadline = Date.now() + 60_000;
    // Ready means the Tekton paths are served again, not just /version.
    const tektonServed = (): Promise<boolean> => admin.makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns }).then(() => true, () => false);
    while (!(await tektonServed())) {
      assert.ok(Date.now() < deadline, 'kube-apiserver is back');
      await sleep(200);
    }
    // TaskRuns that finish after the restart reach the operator only through a new watch.
    const second = await prepareBurst(env, admin, { namespace: ns, prefix, count: 10, namePrefix: 'after' });
    await second.finish();
    const all = [...first.runs, ...second.runs];
    const observed = await waitAllDecided(ns, all, 60_000);
    await operator.stop('SIGTERM');
    assert.equal(observed.signed.length, 20, `${JSON.stringify(observed)}\n${operator.output().slice(-3000)}`);
  });

  it('exits promptly on SIGTERM however soon after start-up (leader election and watches just begun)', async () => {
    const lease = { enabled: true, namespace: 'slsa-ml-system', leaseName: 'slsa-ml-operator', leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 1 };
    for (let i = 0; i < 5; i++) {
      const operator = await startOperator(env, operatorConfig({ leaderElection: lease }));
      await operator.ready();
      await sleep(i * 15);
      const started = Date.now();
      const code = await Promise.race([operator.stop('SIGTERM'), sleep(10_000).then(() => 'hung' as const)]);
      assert.equal(code, 0, `attempt ${i}: ${code} after ${Date.now() - started} ms\n${operator.output().slice(-2000)}`);
    }
  });

  it('with two replicas, exactly one signs, and killing the leader hands over within the lease duration', async () => {
    const ns = await tektonNamespace(env, 'ha');
    // The Lease name the manifests' Role is limited to.
    const leaseName = 'slsa-ml-operator';
    const lease = { enabled: true, namespace: 'slsa-ml-system', leaseName, leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 1 };
    const replicas = await Promise.all(['replica-a', 'replica-b'].map(async (id) => ({ id, proc: await startOperator(env, operatorConfig({ leaderElection: lease }), { POD_NAME: id }) })));
    await Promise.all(replicas.map((r) => r.proc.ready()));
    const coordination = admin.makeApiClient(CoordinationV1Api);
    const holder = async (): Promise<string | undefined> =>
      coordination.readNamespacedLease({ namespace: 'slsa-ml-system', name: leaseName }).then((l) => l.spec?.holderIdentity ?? undefined, () => undefined);
    let leaderId: string | undefined;
    for (let i = 0; i < 100 && !leaderId; i++) { leaderId = await holder(); if (!leaderId) await sleep(100); }
    assert.ok(leaderId === 'replica-a' || leaderId === 'replica-b', `a leader: ${leaderId}`);

    const burst = await prepareBurst(env, admin, { namespace: ns, prefix, count: 10 });
    await burst.finish();
    assert.equal((await waitAllDecided(ns, burst.runs, 30_000)).signed.length, 10);
    const events = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
    const stored = events.items.filter((e) => e.reason === 'ProvenanceStored');
    assert.equal(stored.length, 10, 'one ProvenanceStored event per TaskRun');
    assert.deepEqual([...new Set(stored.map((e) => e.reportingInstance))], [leaderId]);

    const leader = replicas.find((r) => r.id === leaderId);
    const standby = replicas.find((r) => r.id !== leaderId);
    await leader?.proc.stop('SIGKILL');
    const killedAt = Date.now();
    let newHolder: string | undefined = leaderId;
    while (newHolder === leaderId && Date.now() - killedAt < 15_000) { await sleep(100); newHolder = await holder(); }
    const handover = (Date.now() - killedAt) / 1000;
    assert.equal(newHolder, standby?.id);
    // The standby polls every 1–2.2 retry periods (client-go's jitter): it may see the last renewal
    // one such period late, waits the lease duration from then, and acquires at its next poll.
    const worstCase = lease.leaseDurationSeconds + 2 * lease.retryPeriodSeconds * 2.2;
    assert.ok(handover <= worstCase + 1, `handover took ${handover}s (worst case ${worstCase}s)`);

    const afterKill = await prepareBurst(env, admin, { namespace: ns, prefix, count: 3, namePrefix: 'after-kill' });
    await afterKill.finish();
    assert.equal((await waitAllDecided(ns, afterKill.runs, 30_000)).signed.length, 3);
    assert.equal(await standby?.proc.stop('SIGTERM'), 0);
    // A graceful stop releases the lease at once.
    assert.ok(!(await holder()), 'lease released on SIGTERM');
  });
});

