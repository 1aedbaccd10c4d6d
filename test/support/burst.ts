// Many training runs finishing at once, each with its own model, for crash/HA/burst/fault tests,
// and what those tests assert about them: every run decided, each model stored once, nothing false.
// The runs go through the real Tekton controller: all their Pods run (each step writes its model
// meanwhile), and `finish` then supplies every step's outcome at once, so Tekton completes them
// all within moments of each other.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { OUTCOME_ANNOTATION } from '../../hack/env/pod-outcome.ts';
import type { PodRunner } from '../../hack/env/pod-runner.ts';
import { verifyModelSignature } from '../../src/model-signing/index.ts';
import { createSignatureVerifier, verifyProvenance } from '../../src/verify/index.ts';
import type { TestEnv } from '../harness/index.ts';
import { applyObjects, createRun, getRun, supplyOutcomes, type Manifest } from './tekton-runs.ts';
import { sha256, uploadModel } from './training-run.ts';

export interface BurstRun {
  readonly name: string;
  readonly modelUri: string;
}

/** Creates the TaskRuns and returns once all their Pods run and have written their models; `finish` then completes them all. */
export interface BurstSpec {
  /** A namespace with a `default` ServiceAccount (tektonNamespace). */
  readonly namespace: string;
  /** Models go under gs://<bucket>/<prefix>/<namespace>/<name>/ */
  readonly prefix: string;
  readonly count: number;
  readonly namePrefix?: string;
  /** Size of each model (default: a short line). */
  readonly modelBytes?: number;
  /** How long the Pods may take to start (default 120 s). */
  readonly startMs?: number;
}

export interface Burst {
  readonly runs: BurstRun[];
  /** Supplies every step's outcome at once; returns when each Pod carries it (Tekton completes the runs moments later). */
  readonly finish: () => Promise<void>;
}

// No CPU or memory requests, so 50 of its Pods fit the CPU pool's nodes at once.
const BURST_TASK: Manifest = {
  apiVersion: 'tekton.dev/v1',
  kind: 'Task',
  metadata: { name: 'burst-train' },
  spec: {
    results: [{ name: 'model_ARTIFACT_OUTPUTS', type: 'object', properties: { uri: { type: 'string' }, digest: { type: 'string' }, isBuildArtifact: { type: 'string' } } }],
    steps: [{ name: 'train', image: 'python:3.11-slim', script: 'exec python -m training' }],
  },
};

function modelContent(namespace: string, i: number, size: number | undefined): Buffer {
  const line = Buffer.from(`model ${namespace} ${i}\n`);
  return size === undefined ? line : Buffer.concat([line, Buffer.alloc(Math.max(0, size - line.length), i % 251)]);
}

/** Runners of bursts not yet finished, so a failed test can still stop them (stopBursts). */
const active = new Set<() => Promise<void>>();

/** Stops the step runners of unfinished bursts (their Pods stay running); for a test file's `after`. */
export async function stopBursts(): Promise<void> {
  await Promise.all([...active].map((stop) => stop()));
}

export async function prepareBurst(env: TestEnv, kc: KubeConfig, spec: BurstSpec): Promise<Burst> {
  const { namespace, prefix, count, namePrefix = 'train' } = spec;
  const runs: BurstRun[] = Array.from({ length: count }, (_, i) => {
    const name = `${namePrefix}-${String(i).padStart(3, '0')}`;
    return { name, modelUri: `gs://${env.bucket}/${prefix}/${namespace}/${name}/pytorch_model.pth` };
  });
  const index = new Map(runs.map((run, i) => [run.name, i]));
  const started = new Set<string>();
  let release: (go: boolean) => void = () => undefined;
  const gate = new Promise<boolean>((resolve) => { release = resolve; });
  const runner = supplyOutcomes(env, namespace, async (pod) => {
    const i = index.get(pod.taskRun ?? '');
    const run = i === undefined ? undefined : runs[i];
    if (i === undefined || !run) return undefined;
    const model = modelContent(namespace, i, spec.modelBytes);
    await uploadModel(env, run.modelUri.replace(`gs://${env.bucket}/`, ''), model);
    started.add(run.name);
    if (!(await gate)) return undefined;
    return { train: { results: { model_ARTIFACT_OUTPUTS: { uri: run.modelUri, digest: `sha256:${sha256(model)}`, isBuildArtifact: 'true' } } } };
  });
  const stop = async (): Promise<void> => {
    active.delete(stop);
    release(false);
    await runner.stop();
  };
  active.add(stop);
  try {
    await applyObjects(kc, namespace, [BURST_TASK]);
    for (const run of runs) await createRun(kc, namespace, { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: run.name }, spec: { taskRef: { name: 'burst-train' } } });
    await waitStarted(kc, namespace, runs, { started, runner }, spec.startMs ?? 120_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const finish = async (): Promise<void> => {
    release(true);
    try {
      await waitOutcomesSupplied(kc, namespace, runs, runner);
    } finally {
      await stop();
    }
  };
  return { runs, finish };
}

async function waitStarted(kc: KubeConfig, namespace: string, runs: readonly BurstRun[], steps: { started: ReadonlySet<string>; runner: PodRunner }, timeoutMs: number): Promise<void> {
  const { started, runner } = steps;
  const deadline = Date.now() + timeoutMs;
  while (started.size < runs.length) {
    if (runner.errors.length > 0) throw new Error(`burst steps failed: ${runner.errors.map(String).join('; ')}`);
    if (Date.now() > deadline) {
      const late = runs.find((r) => !started.has(r.name));
      const status = late ? (await getRun(kc, 'TaskRun', namespace, late.name)).status?.conditions : undefined;
      throw new Error(`${runs.length - started.size} of ${runs.length} burst Pods did not run within ${timeoutMs} ms; ${late?.name}: ${JSON.stringify(status)}`);
    }
    await sleep(200);
  }
}

async function waitOutcomesSupplied(kc: KubeConfig, namespace: string, runs: readonly BurstRun[], runner: PodRunner): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const names = new Set(runs.map((r) => r.name));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (runner.errors.length > 0) throw new Error(`burst steps failed: ${runner.errors.map(String).join('; ')}`);
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'tekton.dev/task=burst-train' });
    const supplied = pods.items.filter((p) => names.has(p.metadata?.labels?.['tekton.dev/taskRun'] ?? '') && p.metadata?.annotations?.[OUTCOME_ANNOTATION] !== undefined);
    if (supplied.length >= runs.length) return;
    assert.ok(Date.now() < deadline, `only ${supplied.length} of ${runs.length} burst Pods got their outcome`);
    await sleep(100);
  }
}

export interface Observed { signed: string[]; failed: string[]; pending: string[] }

/** Each run's outcome as the TaskRun records it now (pending: none yet). */
export async function outcomes(kc: KubeConfig, ns: string, runs: readonly BurstRun[]): Promise<Observed> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const list = (await api.listNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns })) as {
    items: Array<{ metadata: { name: string; annotations?: Record<string, string> } }>;
  };
  const by = new Map(list.items.map((i) => [i.metadata.name, i.metadata.annotations?.['slsa-ml.dev/signed']]));
  const result: Observed = { signed: [], failed: [], pending: [] };
  for (const run of runs) {
    const v = by.get(run.name);
    (v === 'true' ? result.signed : v === 'failed' ? result.failed : result.pending).push(run.name);
  }
  return result;
}

export async function waitAllDecided(kc: KubeConfig, ns: string, runs: readonly BurstRun[], timeoutMs: number): Promise<Observed> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o = await outcomes(kc, ns, runs);
    if (o.pending.length === 0 || Date.now() > deadline) return o;
    await sleep(250);
  }
}

/**
 * No duplicate and no false "signed": every model has exactly one bundle and one envelope, the
 * same signature in both, verifying with the operator's key and attesting its own TaskRun — and
 * one model-signing signature (.sig) of the same bytes by the same key.
 */
export async function assertStoredOnce(env: TestEnv, kc: KubeConfig, ns: string, runs: readonly BurstRun[], publicKeyPem: string): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const bucket = env.storageClient().bucket(env.bucket);
  for (const run of runs) {
    const tr = (await api.getNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, name: run.name })) as { metadata: { uid: string } };
    const base = run.modelUri.replace(`gs://${env.bucket}/`, '');
    const [siblings] = await bucket.getFiles({ prefix: `${base}.` });
    assert.deepEqual(siblings.map((f) => f.name).sort(), [`${base}.intoto.jsonl`, `${base}.sig`, `${base}.sigstore.json`], run.name);
    const bundleJson = (await bucket.file(`${base}.sigstore.json`).download())[0].toString();
    const bundle = JSON.parse(bundleJson) as { dsseEnvelope: { payload: string } };
    const envelope = JSON.parse((await bucket.file(`${base}.intoto.jsonl`).download())[0].toString()) as unknown;
    assert.deepEqual(envelope, bundle.dsseEnvelope, `${run.name}: one signature in both objects`);
    const model = (await bucket.file(base).download())[0];
    const verdict = await verifyProvenance({ provenance: bundleJson, trust: { kind: 'key', publicKeyPem }, artifact: { sha256: sha256(model) } });
    assert.ok(verdict.ok, `${run.name}: ${JSON.stringify(verdict.checks.filter((c) => !c.ok))}`);
    const signature = (await bucket.file(`${base}.sig`).download())[0];
    const measured = { kind: 'file', sha256: sha256(model) } as const;
    const modelSigned = await verifyModelSignature({ signature, trust: await createSignatureVerifier({ kind: 'key', publicKeyPem }), model: measured });
    assert.ok(modelSigned.ok, `${run.name}.sig: ${JSON.stringify(modelSigned.checks.filter((c) => !c.ok))}`);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as { predicate: { runDetails: { metadata: { invocationId: string } } } };
    assert.equal(statement.predicate.runDetails.metadata.invocationId, tr.metadata.uid, run.name);
  }
}
