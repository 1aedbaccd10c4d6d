import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, RbacAuthorizationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { newNamespace, testEnv } from '../harness/index.ts';
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT } from '../../hack/env/identities.ts';
import { LeaderElector, type LeaderElectorOptions } from '../../operator/leader/index.ts';
import { createLogger } from '../../operator/observability/index.ts';
import { statusOf } from '../support/api-status.ts';

const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;
// Short timings keep the test quick; their ratios are those of the defaults (15 s / 10 s / 2 s).
const FAST = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1.5, retryPeriodSeconds: 0.3 };

/**
 * The least the operator needs on its Lease: create (which RBAC cannot limit by resourceNames,
 * since the name is not known at authorization time) and get/update on that one Lease.
 */
async function leaseNamespace(leaseName: string): Promise<string> {
  const env = testEnv();
  const ns = await newNamespace(env, 'lease');
  const rbac = env.kubeConfig('admin').makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: ns,
    body: {
      metadata: { name: 'slsa-ml-leader-election' },
      rules: [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [leaseName], verbs: ['get', 'update'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: 'slsa-ml-leader-election' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'slsa-ml-leader-election' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: OPERATOR_USER }],
    },
  });
  await until(async () => (await statusOf(operatorLeases().readNamespacedLease({ namespace: ns, name: leaseName }))) === 404, 5000, 'RBAC to apply');
  return ns;
}

function operatorLeases(): CoordinationV1Api {
  return testEnv().kubeConfig('operator').makeApiClient(CoordinationV1Api);
}

function adminLeases(): CoordinationV1Api {
  return testEnv().kubeConfig('admin').makeApiClient(CoordinationV1Api);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
  return performance.now() - start;
}

interface Replica {
  readonly id: string;
  readonly elector: LeaderElector;
  readonly events: string[];
  readonly logs: () => string;
  readonly done: Promise<void>;
}

const replicas: Replica[] = [];
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.elector.stop()));
});

function replica(ns: string, name: string, id: string, overrides: Partial<LeaderElectorOptions> = {}, kc: KubeConfig = testEnv().kubeConfig('operator')): Replica {
  const events: string[] = [];
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  const elector = new LeaderElector({
    kubeConfig: kc,
    namespace: ns,
    name,
    identity: id,
    ...FAST,
    logger: createLogger({ level: 'debug', destination: stream }),
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
    ...overrides,
  });
  const r: Replica = { id, elector, events, logs: () => lines.join(''), done: elector.run() };
  replicas.push(r);
  return r;
}

async function readLease(ns: string, name: string): Promise<V1Lease> {
  return adminLeases().readNamespacedLease({ namespace: ns, name });
}

const leaders = (...rs: Replica[]): string[] => rs.filter((r) => r.elector.isLeader()).map((r) => r.id);

describe('when two operator replicas campaign for the same Lease', () => {
  it('lets exactly one lead, records it in the Lease, and keeps renewing it', async () => {
    const ns = await leaseNamespace('slsa-ml-operator');
    const a = replica(ns, 'slsa-ml-operator', 'replica-a');
    const b = replica(ns, 'slsa-ml-operator', 'replica-b');
    await until(() => leaders(a, b).length === 1, 5000, 'a leader');
    const [leader] = leaders(a, b);
    await sleep(1000); // several retry periods: the standby must stay a standby
    assert.deepEqual(leaders(a, b), [leader]);
    const standby = leader === a.id ? b : a;
    assert.deepEqual(standby.events, [], 'the standby never started leading');
    assert.deepEqual((leader === a.id ? a : b).events, ['started']);

    const first = (await readLease(ns, 'slsa-ml-operator')).spec;
    assert.equal(first?.holderIdentity, leader);
    assert.equal(first?.leaseDurationSeconds, 2);
    assert.equal(first?.leaseTransitions, 0);
    // client-node hands MicroTime back as the raw string: six fractional digits, as written.
    assert.match(String(first?.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(String(first?.acquireTime), /\.\d{6}Z$/);
    await sleep(700);
    const later = (await readLease(ns, 'slsa-ml-operator')).spec;
    assert.ok(new Date(String(later?.renewTime)) > new Date(String(first?.renewTime)), 'the leader renews');
    assert.equal(String(later?.acquireTime), String(first?.acquireTime), 'renewing keeps acquireTime');
  });
});

describe('when the leader stops gracefully (SIGTERM)', () => {
  it('hands the Lease back and the standby takes over at once, long before the lease would expire', async () => {
    const ns = await leaseNamespace('slsa-ml-operator');
    // A long lease: a takeover within it can only come from the release.
    const slow = { leaseDurationSeconds: 20, renewDeadlineSeconds: 10, retryPeriodSeconds: 0.3 };
    const a = replica(ns, 'slsa-ml-operator', 'replica-a', slow);
    await until(() => a.elector.isLeader(), 5000, 'a to lead');
    const b = replica(ns, 'slsa-ml-operator', 'replica-b', slow);
    await sleep(500);
    assert.deepEqual(leaders(a, b), ['replica-a']);

    const stoppedAt = performance.now();
    await a.elector.stop();
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.events, ['started', 'stopped']);
    await until(() => b.elector.isLeader(), 3000, 'b to take over');
    const takeoverMs = performance.now() - stoppedAt;
    assert.ok(takeoverMs < 2000, `took over after ${Math.round(takeoverMs)} ms`);
    const spec = (await readLease(ns, 'slsa-ml-operator')).spec;
    assert.equal(spec?.holderIdentity, 'replica-b');
    assert.equal(spec?.leaseTransitions, 1);
    await a.done;
  });

  it('releases by clearing the holder with a one-second duration', async () => {
    const ns = await leaseNamespace('solo');
    const a = replica(ns, 'solo', 'replica-a');
    await until(() => a.elector.isLeader(), 5000, 'a to lead');
    await a.elector.stop();
    const spec = (await readLease(ns, 'solo')).spec;
    assert.equal(spec?.holderIdentity, '');
    assert.equal(spec?.leaseDurationSeconds, 1);
  });
});

describe('when the leader dies without releasing', () => {
  it('lets the standby take over after about the lease duration, not before', async () => {
    const ns = await leaseNamespace('slsa-ml-operator');
    const a = replica(ns, 'slsa-ml-operator', 'replica-a', { releaseOnStop: false });
    await until(() => a.elector.isLeader(), 5000, 'a to lead');
    const b = replica(ns, 'slsa-ml-operator', 'replica-b');
    await sleep(600);

    const diedAt = performance.now();
    await a.elector.stop(); // renewals end; the Lease still names replica-a
    assert.equal((await readLease(ns, 'slsa-ml-operator')).spec?.holderIdentity, 'replica-a');
    await until(() => b.elector.isLeader(), 6000, 'b to take over');
    const takeoverMs = performance.now() - diedAt;
    // At least the lease duration less one retry period (a's last renew) and at most about
    // one observation and one acquire poll (each up to 2.2 retry periods) beyond it.
    assert.ok(takeoverMs >= 1500, `took over after only ${Math.round(takeoverMs)} ms`);
    assert.ok(takeoverMs <= 4000, `took over after ${Math.round(takeoverMs)} ms`);
    assert.equal((await readLease(ns, 'slsa-ml-operator')).spec?.holderIdentity, 'replica-b');
  });
});

describe('when another party overwrites the Lease holder', () => {
  it('stops leading and calls onStoppedLeading', async () => {
    const ns = await leaseNamespace('slsa-ml-operator');
    const a = replica(ns, 'slsa-ml-operator', 'replica-a');
    await until(() => a.elector.isLeader(), 5000, 'a to lead');
    const lease = await readLease(ns, 'slsa-ml-operator');
    await adminLeases().replaceNamespacedLease({
      namespace: ns,
      name: 'slsa-ml-operator',
      body: {
        metadata: { name: 'slsa-ml-operator', resourceVersion: lease.metadata?.resourceVersion },
        spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: new V1MicroTime(Date.now()), leaseDurationSeconds: 30 },
      },
    });
    const lostAfter = await until(() => a.events.includes('stopped'), 3000, 'a to notice');
    assert.ok(lostAfter < 1500, `noticed after ${Math.round(lostAfter)} ms`);
    assert.equal(a.elector.isLeader(), false);
    await a.done; // run() returns once leadership is lost
    assert.equal((await readLease(ns, 'slsa-ml-operator')).spec?.holderIdentity, 'intruder', 'no release of a Lease it lost');
    assert.match(a.logs(), /"ending":"lost"/);
  });
});

describe('when the leader cannot renew', () => {
  it('stops leading within the renew deadline, before a standby could take over', async () => {
    const ns = await leaseNamespace('slsa-ml-operator');
    const a = replica(ns, 'slsa-ml-operator', 'replica-a');
    await until(() => a.elector.isLeader(), 5000, 'a to lead');
    await testEnv().kubeConfig('admin').makeApiClient(RbacAuthorizationV1Api)
      .deleteNamespacedRoleBinding({ namespace: ns, name: 'slsa-ml-leader-election' });
    const revokedAt = performance.now();
    await until(() => a.events.includes('stopped'), 5000, 'a to give up');
    const gaveUpMs = performance.now() - revokedAt;
    assert.ok(gaveUpMs < 2500, `gave up after ${Math.round(gaveUpMs)} ms`);
    assert.match(a.logs(), /"ending":"deadline"/);
    assert.match(a.logs(), /HTTP 403/, 'the renew failures are logged with their cause');
  });
});

describe('the operator identity without the Role', () => {
  it('is refused the Lease API, so the Role above is what makes election work', async () => {
    const ns = await newNamespace(testEnv(), 'lease-norbac');
    assert.equal(await statusOf(operatorLeases().readNamespacedLease({ namespace: ns, name: 'slsa-ml-operator' })), 403);
    assert.equal(await statusOf(operatorLeases().createNamespacedLease({ namespace: ns, body: { metadata: { name: 'slsa-ml-operator' }, spec: {} } })), 403);
  });
});
