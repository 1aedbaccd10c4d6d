// The operator's watch against the real kube-apiserver: a watch that ends — the timeout it asked
// the server for, or the client's idle timeout when the server goes silent — resumes from its
// resourceVersion without listing again; 410 Gone lists again exactly once. Counted from the
// operator's own logs (one "listed" line per list) and its /metrics.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { readEnvInfo, restartComponent } from '../../hack/env/environment.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { prepareBurst, stopBursts } from '../support/burst.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess } from '../support/operator-process.ts';
import { tektonNamespace } from '../support/tekton-runs.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const prefix = uniqueName('watch');

interface LogLine { message?: string; path?: string; end?: string; objects?: number; via?: string }

/** The operator's lines with this message about its TaskRun watch (it watches PipelineRuns too, each with lines of its own). */
function logLines(operator: OperatorProcess, message: string): LogLine[] {
  return operator.output().split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.message === message && typeof l.path === 'string' && l.path.endsWith('/taskruns'));
}

const lists = (operator: OperatorProcess): LogLine[] => logLines(operator, 'listed');
const resumes = (operator: OperatorProcess): LogLine[] => logLines(operator, 'watch ended; resuming');

async function restarts(operator: OperatorProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
  return Number(/^slsa_ml_watch_restarts_total (\S+)/m.exec(text)?.[1]);
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs: number, operator: OperatorProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}\n${operator.output().slice(-3000)}`);
    await sleep(200);
  }
}

async function signed(ns: string, name: string): Promise<boolean> {
  const tr = (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, name })) as {
    metadata: { annotations?: Record<string, string> };
  };
  return tr.metadata.annotations?.['slsa-ml.dev/signed'] === 'true';
}

/** A run that finishes now must still reach the operator through its (resumed) watch. */
async function assertStillWatching(operator: OperatorProcess, ns: string, namePrefix: string): Promise<void> {
  const { runs, finish } = await prepareBurst(env, admin, { namespace: ns, prefix, count: 1, namePrefix });
  await finish();
  await until(() => signed(ns, runs[0]?.name ?? ''), `${namePrefix} attested`, 30_000, operator);
}

/** Bumps etcd's revision directly (kube-apiserver is down), so a resumed watch is too old for the new watch cache. */
async function bumpEtcdRevision(): Promise<void> {
  const etcd = readEnvInfo(process.env.SLSA_ML_ENV ?? '').processes.find((p) => p.name === 'etcd');
  const url = etcd?.args.find((a) => a.startsWith('--listen-client-urls='))?.split('=')[1];
  assert.ok(url, 'etcd client URL in env.json');
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const res = await fetch(`${url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64('/slsa-ml-test/revision-bump'), value: b64(String(Date.now())) }) });
  assert.ok(res.ok, `etcd put: ${res.status}`);
}

describe('operator watch', () => {
  let ns: string;
  let operator: OperatorProcess;

  before(async () => {
    await applyOperatorRbac(env);
    const keys = generateSigningKeys();
    ns = await tektonNamespace(env, 'watch');
    operator = await startOperator(env, {
      namespaces: [ns],
      allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
      signer: { kind: 'key', keyPath: keys.privateKeyPath },
      builderId: 'https://slsa-ml.dev/operator/test',
      leaderElection: { enabled: false },
      finalizer: { enabled: false, maxHoldSeconds: 600 },
      // A 10 s idle timeout and 8 s resumed watches (a quarter of stallSeconds, five sixths of that),
      // so the test sees several watch ends in seconds; production's 30 s and 25 s behave alike.
      watch: { relistSeconds: 3600, stallSeconds: 40 },
      logLevel: 'debug',
    });
    await operator.ready();
    await until(() => lists(operator).length === 1, 'the first list', 20_000, operator);
  });
  after(async () => {
    await stopBursts();
    await stopAllOperators();
  });

  it('resumes an idle watch that the server ends on its timeout, without listing again', async () => {
    const before = resumes(operator).filter((r) => r.end === 'closed').length;
    const restartsBefore = await restarts(operator);
    // Resumed watches ask for 8 s; two of them end well within this on an idle namespace.
    await until(() => resumes(operator).filter((r) => r.end === 'closed').length >= before + 2, 'two watches ended by the server', 30_000, operator);
    const closed = resumes(operator).filter((r) => r.end === 'closed').length - before;
    assert.ok(closed >= 2, `watches ended by the server: ${closed}\n${operator.output().slice(-2000)}`);
    assert.equal(lists(operator).length, 1, 'no relist');
    assert.equal(await restarts(operator), restartsBefore, 'no watch failed');
    await assertStillWatching(operator, ns, 'after-idle');
  });

  it('resumes after the idle timeout when the API server goes silent, without listing again', async () => {
    const apiserver = readEnvInfo(process.env.SLSA_ML_ENV ?? '').processes.find((p) => p.name === 'kube-apiserver');
    assert.ok(apiserver);
    const idleBefore = resumes(operator).filter((r) => r.end === 'idle').length;
    // Go silent while a watch is surely open: a few seconds after one began, long before its end.
    const began = resumes(operator).length;
    await until(() => resumes(operator).length > began, 'a fresh watch', 15_000, operator);
    await sleep(2000);
    process.kill(apiserver.pid, 'SIGSTOP');
    try {
      // A watch that has had no data for the idle timeout (10 s here) is given up, as client-node's Watch would.
      await until(() => resumes(operator).filter((r) => r.end === 'idle').length > idleBefore, 'an idle timeout', 25_000, operator);
    } finally {
      process.kill(apiserver.pid, 'SIGCONT');
    }
    await assertStillWatching(operator, ns, 'after-silence');
    assert.equal(lists(operator).length, 1, 'no relist');
  });

  it('lists again exactly once when the resourceVersion it resumes from is gone (410)', async () => {
    const listed = lists(operator).length;
    // A restarted kube-apiserver starts its watch cache at etcd's current revision, which the
    // bump puts past anything the operator has seen: its resume gets 410 Gone.
    await restartComponent(process.env.SLSA_ML_ENV ?? '', 'kube-apiserver', bumpEtcdRevision);
    await until(() => logLines(operator, 'watch expired (410 Gone); relisting').length === 1, '410 Gone', 90_000, operator);
    await until(() => lists(operator).length === listed + 1, 'the relist', 30_000, operator);
    await assertStillWatching(operator, ns, 'after-gone');
    await sleep(20_000);
    assert.equal(lists(operator).length, listed + 1, 'exactly one relist');
    assert.equal(logLines(operator, 'watch expired (410 Gone); relisting').length, 1);
    assert.deepEqual(lists(operator).map((l) => l.via), ['stream', 'stream']);
  });
});
