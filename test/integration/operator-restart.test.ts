// Issue 23, the start-up window, through real Tekton: an operator that says it is ready has its
// first lists in (a run that finishes just after is held, and its provenance stored), and after a
// restart a run that completes now does not wait behind the backlog of re-checks a list brings.
// What happened is read from the API server's own order of writes (a watch the test keeps on the
// TaskRuns) and from the operator's log; nothing is asserted about how long anything took.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { verifyModelSignature } from '../../src/model-signing/index.ts';
import { createSignatureVerifier, verifyProvenance } from '../../src/verify/index.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { assertStoredOnce, outcomes, prepareBurst, stopBursts, waitAllDecided, type BurstRun } from '../support/burst.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { tektonNamespace } from '../support/tekton-runs.ts';
import { gsUri, modelOutput, sha256, startTrainingRun } from '../support/training-run.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const prefix = uniqueName('restart');
const FINALIZER = 'slsa-ml.dev/provenance';
const SEAL = 'slsa-ml.dev/seal';
const SIGNED = 'slsa-ml.dev/signed';
const TASKRUNS = { group: 'tekton.dev', version: 'v1', plural: 'taskruns' } as const;
let keys: SigningKeys;
/** Settled runs re-checked after the restart, made in bursts of BATCH through Tekton. */
const BACKLOG = 100;
const BATCH = 100;
/** The restarted operator's workers (the default, said out loud: the assertion counts on it). */
const WORKERS = 4;

const api = (): CustomObjectsApi => admin.makeApiClient(CustomObjectsApi);

function operatorConfig(namespace: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    namespaces: [namespace],
    allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
    storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
    signer: { kind: 'key', keyPath: keys.privateKeyPath },
    builderId: 'https://slsa-ml.dev/operator/test',
    leaderElection: { enabled: false },
    ...extra,
  };
}

interface LogLine { message?: string; path?: string; time?: string }

function logLines(operator: OperatorProcess, message: string): LogLine[] {
  return operator.output().split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.message === message);
}

/** The 'listed' lines of its first lists, once there is one for each collection it watches (TaskRuns and PipelineRuns). */
function firstLists(operator: OperatorProcess): LogLine[] | undefined {
  const lists = logLines(operator, 'listed');
  const of = (plural: string): LogLine | undefined => lists.find((l) => l.path?.endsWith(`/${plural}`));
  const taskRuns = of('taskruns');
  const pipelineRuns = of('pipelineruns');
  return taskRuns && pipelineRuns ? [taskRuns, pipelineRuns] : undefined;
}

async function until<T>(what: string, timeoutMs: number, check: () => T | undefined | false | Promise<T | undefined | false>, operator?: OperatorProcess): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}${operator ? `\n${operator.output().slice(-3000)}` : ''}`);
    await sleep(100);
  }
}

/**
 * A TCP relay between the operator and kube-apiserver that holds every connection (TLS and all)
 * until opened, then relays it: the operator's first list is in only after `open()`, as when the
 * API server is slow to answer a large list after a restart.
 */
interface ApiGate {
  readonly server: string;
  open(): void;
  close(): Promise<void>;
}

async function startApiGate(target: URL): Promise<ApiGate> {
  let opened = false;
  const waiting: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    const relay = (): void => {
      if (client.destroyed) return;
      const upstream = connect(Number(target.port), target.hostname);
      track(upstream);
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    };
    if (opened) relay();
    else waiting.push(relay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    server: `https://127.0.0.1:${address.port}`,
    open(): void {
      opened = true;
      for (const relay of waiting.splice(0)) relay();
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A kubeconfig for the operator identity (its token, the cluster's CA) that reaches the API server at `server`. */
function operatorKubeconfigVia(server: string): string {
  const kc = env.kubeConfig('operator');
  const path = join(mkdtempSync(join(tmpdir(), 'slsa-ml-restart-')), 'kubeconfig');
  writeFileSync(path, stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority-data': kc.getCurrentCluster()?.caData } }],
    users: [{ name: 'operator', user: { token: kc.getCurrentUser()?.token } }],
    contexts: [{ name: 'operator', context: { cluster: 'local', user: 'operator' } }],
    'current-context': 'operator',
  }), { mode: 0o600 });
  return path;
}

/** Every answer /readyz gives, from before the server listens until stopped. */
function probeReadyz(port: number): { answers: Array<{ status: number; at: number }>; stop: () => Promise<void> } {
  const answers: Array<{ status: number; at: number }> = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const status = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) })
        .then(async (res) => { await res.arrayBuffer(); return res.status; }, () => 0);
      if (status !== 0) answers.push({ status, at: Date.now() });
      await sleep(25);
    }
  })();
  return { answers, stop: async () => { stopped = true; await loop; } };
}

/**
 * What /readyz said around the moment the operator's first lists were in (its 'listed' lines are
 * written before it can answer 200 for them, so a 200 received earlier was answered without them).
 */
function readinessAround(answers: ReadonlyArray<{ status: number; at: number }>, listsInAt: number): { readyBefore: boolean; notReadyBefore: boolean; said: string } {
  const first = answers[0]?.at ?? NaN;
  const readyAt = answers.find((a) => a.status === 200)?.at;
  return {
    readyBefore: readyAt === undefined || readyAt < listsInAt,
    notReadyBefore: answers.some((a) => a.status !== 200 && a.at <= listsInAt),
    said: `/readyz answered first ${answers[0]?.status} (at +0 ms), first 200 at +${(readyAt ?? NaN) - first} ms; first lists in at +${listsInAt - first} ms`,
  };
}

/** One TaskRun version as the API server wrote it (watch events come in the order of its writes). */
interface Version {
  readonly type: string;
  readonly name: string;
  readonly finalizers: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly succeeded: string | undefined;
}

interface WatchedRun {
  metadata?: { name?: string; resourceVersion?: string; finalizers?: string[]; annotations?: Record<string, string> };
  status?: { conditions?: Array<{ type?: string; status?: string }> };
}

function versionOf(type: string, obj: WatchedRun): Version {
  const meta = obj.metadata ?? {};
  return {
    type,
    name: meta.name ?? '',
    finalizers: meta.finalizers ?? [],
    annotations: meta.annotations ?? {},
    succeeded: obj.status?.conditions?.find((c) => c.type === 'Succeeded')?.status,
  };
}

/**
 * Every version of the namespace's TaskRuns from now on, in the API server's order: the first
 * events are the state now (ADDED), then each write. A watch that ends (client-node gives up on
 * one silent for 30 s) is resumed where it stopped.
 */
async function recordVersions(kc: KubeConfig, namespace: string): Promise<{ versions: Version[]; stop: () => void }> {
  const versions: Version[] = [];
  let resourceVersion: string | undefined;
  let current: AbortController | undefined;
  let stopped = false;
  const watch = new Watch(kc);
  const start = async (): Promise<void> => {
    current = await watch.watch(`/apis/tekton.dev/v1/namespaces/${namespace}/taskruns`, {
      timeoutSeconds: 900,
      allowWatchBookmarks: true,
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    }, (type, obj: WatchedRun) => {
      if (type === 'ERROR') return;
      resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
      if (type === 'BOOKMARK') return;
      versions.push(versionOf(type, obj));
    }, () => {
      if (!stopped) void sleep(200).then(start);
    });
  };
  await start();
  return { versions, stop: () => { stopped = true; current?.abort(); } };
}

/** Signed provenance next to the model, once, verifying with the operator's key, for the run with this UID (which may be gone). */
async function assertProvenance(uri: string, uid: string): Promise<void> {
  const bucket = env.storageClient().bucket(env.bucket);
  const base = uri.replace(`gs://${env.bucket}/`, '');
  const [siblings] = await bucket.getFiles({ prefix: `${base}.` });
  assert.deepEqual(siblings.map((f) => f.name).sort(), [`${base}.intoto.jsonl`, `${base}.sig`, `${base}.sigstore.json`]);
  const model = (await bucket.file(base).download())[0];
  const bundleJson = (await bucket.file(`${base}.sigstore.json`).download())[0].toString();
  const verdict = await verifyProvenance({ provenance: bundleJson, trust: { kind: 'key', publicKeyPem: keys.publicKeyPem }, artifact: { sha256: sha256(model) } });
  assert.ok(verdict.ok, JSON.stringify(verdict.checks.filter((c) => !c.ok)));
  const signature = (await bucket.file(`${base}.sig`).download())[0];
  const modelSigned = await verifyModelSignature({ signature, trust: await createSignatureVerifier({ kind: 'key', publicKeyPem: keys.publicKeyPem }), model: { kind: 'file', sha256: sha256(model) } });
  assert.ok(modelSigned.ok, JSON.stringify(modelSigned.checks.filter((c) => !c.ok)));
  const bundle = JSON.parse(bundleJson) as { dsseEnvelope: { payload: string } };
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as { predicate: { runDetails: { metadata: { invocationId: string } } } };
  assert.equal(statement.predicate.runDetails.metadata.invocationId, uid, 'the provenance is of this very TaskRun');
}

describe('the operator after a restart', () => {
  before(async () => {
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
  });
  after(async () => {
    await stopBursts();
    await stopAllOperators();
  });

  it('holds a run that finishes 0.5 s after the operator is ready, however long its first list takes, and answers /readyz only once that list is in', async (t) => {
    const ns = await tektonNamespace(env, 'restart-hold');
    const model = Buffer.from('trained while the operator restarted\n');
    const object = `${prefix}/${ns}/model.pth`;
    const uri = gsUri(env, object);
    let release = (): void => undefined;
    const stepHeld = new Promise<void>((resolve) => { release = resolve; });
    // Running while no operator runs (between one replica's exit and the next one's start): nothing holds it yet.
    const run = await startTrainingRun(env, ns, 'train', { writes: { [object]: model }, results: [modelOutput(uri, sha256(model))] }, { hold: stepHeld, timeoutMs: 120_000 });
    await run.holding;
    const uid = run.created.metadata.uid ?? '';
    const recorder = await recordVersions(admin, ns);
    const gate = await startApiGate(new URL(env.kubeConfig('operator').getCurrentCluster()?.server ?? ''));
    const operator = await startOperator(env, operatorConfig(ns), { KUBECONFIG: operatorKubeconfigVia(gate.server) });
    const probes = probeReadyz(operator.port);
    try {
      // The API server answers the operator 6 s after the operator serves: its first list is in no sooner.
      const opened = until('the operator serving', 30_000, () => probes.answers.length > 0, operator)
        .then(() => sleep(6000)).finally(() => gate.open());
      opened.catch(() => undefined);
      await operator.ready(60_000);
      await sleep(500);
      release();
      await run.done;
      // Deleted as soon as Tekton records it finished.
      await api().deleteNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: 'train' });
      await opened;
      await until('the TaskRun to be gone', 60_000, () => api().getNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: 'train' }).then(() => false, () => true), operator);
      const lists = await until('its first lists', 30_000, () => firstLists(operator), operator);
      await probes.stop();

      // Tekton's write that completed the run found our finalizer on it: the deletion had to wait for the operator.
      const completed = recorder.versions.find((v) => v.name === 'train' && (v.succeeded === 'True' || v.succeeded === 'False'));
      assert.ok(completed, `a completed version of the TaskRun was seen: ${JSON.stringify(recorder.versions)}`);
      const listsInAt = Math.max(...lists.map((l) => Date.parse(l.time ?? '')));
      const readiness = readinessAround(probes.answers, listsInAt);
      t.diagnostic(`${readiness.said}; finalizers when Tekton completed it: ${JSON.stringify(completed.finalizers)}`);
      assert.deepEqual({
        heldWhenItCompleted: completed.finalizers.includes(FINALIZER),
        readyBeforeItsFirstLists: readiness.readyBefore,
        notReadyAnswersBeforeThen: readiness.notReadyBefore,
      }, {
        heldWhenItCompleted: true,
        readyBeforeItsFirstLists: false,
        notReadyAnswersBeforeThen: true,
      }, `${readiness.said}; finalizers when completed: ${JSON.stringify(completed.finalizers)}\n${operator.output().slice(-3000)}`);
      await assertProvenance(uri, uid);
      assert.equal(await operator.stop('SIGTERM'), 0);
    } finally {
      recorder.stop();
      await probes.stop();
      gate.open();
      await operator.stop('SIGKILL');
      await gate.close();
    }
  });

  it('attests a run that completes after a restart before the backlog of re-checks the first list brings is done', async (t) => {
    const ns = await tektonNamespace(env, 'restart-backlog');
    // The first operator signs the backlog, its outcomes sealed with the seal derived from its signing key.
    const first = await startOperator(env, operatorConfig(ns));
    await first.ready();
    const backlog: BurstRun[] = [];
    const started = Date.now();
    for (let batch = 0; batch < BACKLOG / BATCH; batch++) {
      const burst = await prepareBurst(env, admin, { namespace: ns, prefix, count: BATCH, namePrefix: `settled-${batch}`, startMs: 300_000 });
      await burst.finish();
      backlog.push(...burst.runs);
      const observed = await waitAllDecided(admin, ns, burst.runs, 180_000);
      assert.deepEqual({ failed: observed.failed, pending: observed.pending }, { failed: [], pending: [] }, first.output().slice(-3000));
    }
    t.diagnostic(`${backlog.length} TaskRuns signed through Tekton in ${Math.round((Date.now() - started) / 1000)} s`);
    // Running, and held by the first operator, when it stops.
    const late = await prepareBurst(env, admin, { namespace: ns, prefix, count: 1, namePrefix: 'late' });
    const lateRun = late.runs[0] as BurstRun;
    await until('the late run held', 30_000, async () => ((await api().getNamespacedCustomObject({ ...TASKRUNS, namespace: ns, name: lateRun.name })) as WatchedRun).metadata?.finalizers?.includes(FINALIZER), first);
    assert.equal(await first.stop('SIGTERM'), 0);

    // A seal key replaced without keeping the old one on a later line (docs/operator.md, "Rotating
    // keys"): after the restart every signed run is re-checked once — attested again, its stored
    // provenance recognised as its own — and its outcome sealed again with the new key.
    const sealDir = mkdtempSync(join(tmpdir(), 'slsa-ml-seal-'));
    const sealKeyPath = join(sealDir, 'seal.key');
    writeFileSync(sealKeyPath, `${randomBytes(48).toString('base64')}\n`, { mode: 0o600 });
    const sealBefore = new Map<string, string>();
    for (const item of ((await api().listNamespacedCustomObject({ ...TASKRUNS, namespace: ns })) as { items: WatchedRun[] }).items) {
      sealBefore.set(item.metadata?.name ?? '', item.metadata?.annotations?.[SEAL] ?? '');
    }
    const recorder = await recordVersions(admin, ns);
    const operator = await startOperator(env, operatorConfig(ns, { seal: { keyPath: sealKeyPath }, workers: WORKERS }));
    try {
      await operator.ready(60_000);
      // Its first lists are in (whatever /readyz says): the backlog is queued before the run completes.
      await until('its first lists', 30_000, () => firstLists(operator), operator);
      await late.finish();
      const backlogNames = new Set(backlog.map((r) => r.name));
      // Where, in the API server's order of writes, each re-check re-sealed its run, and the late run got its outcome.
      const positions = (): { resealed: Map<string, number>; lateSigned: number } => {
        const resealed = new Map<string, number>();
        let lateSigned = -1;
        recorder.versions.forEach((v, i) => {
          if (backlogNames.has(v.name) && !resealed.has(v.name) && v.annotations[SEAL] !== sealBefore.get(v.name)) resealed.set(v.name, i);
          if (v.name === lateRun.name && lateSigned < 0 && v.annotations[SIGNED] === 'true') lateSigned = i;
        });
        return { resealed, lateSigned };
      };
      const { resealed, lateSigned } = await until('every re-check and the late run\'s outcome', 300_000, () => {
        const p = positions();
        return p.resealed.size === backlog.length && p.lateSigned >= 0 ? p : undefined;
      }, operator);
      const after = [...resealed.values()].filter((i) => i > lateSigned).length;
      t.diagnostic(`the late run's outcome came with ${after} of ${backlog.length} re-checks still to be recorded`);
      // In one first-in-first-out queue (before the fix) a worker takes the late run only after every
      // backlog key, when at most WORKERS - 1 of them are still in flight: WORKERS or more re-checks
      // recorded after its outcome means it went ahead of the backlog.
      assert.ok(after >= WORKERS, `the late run's outcome was recorded after ${backlog.length - after} of ${backlog.length} re-checks (${after} left)\n${operator.output().slice(-3000)}`);
      assert.equal((await outcomes(admin, ns, [...backlog, lateRun])).signed.length, backlog.length + 1);
      // A re-check adopts what is stored rather than storing again (one in ten of the backlog read back, to keep the test short).
      await assertStoredOnce(env, admin, ns, [lateRun, ...backlog.filter((_, i) => i % 10 === 0)], keys.publicKeyPem);
      assert.equal(await operator.stop('SIGTERM'), 0);
    } finally {
      recorder.stop();
      await operator.stop('SIGKILL');
    }
  });
});
