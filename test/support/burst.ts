// Many training runs finishing at once, each with its own model, for crash/HA/burst/fault tests,
// and what those tests assert about them: every run decided, each model stored once, nothing false.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { verifyModelSignature } from '../../src/model-signing/index.ts';
import { createSignatureVerifier, verifyProvenance } from '../../src/verify/index.ts';
import type { TestEnv } from '../harness/index.ts';
import { createTaskRun, succeededStatus, trainingTaskRun, updateTaskRunStatus } from './tekton.ts';
import { modelOutput, sha256, uploadModel } from './training-run.ts';

export interface BurstRun {
  readonly name: string;
  readonly modelUri: string;
}

/** Uploads the models and creates the TaskRuns (running); `finish` then completes them all. */
export interface BurstSpec {
  readonly namespace: string;
  /** Models go under gs://<bucket>/<prefix>/<namespace>/<name>/ */
  readonly prefix: string;
  readonly count: number;
  readonly namePrefix?: string;
  /** Size of each model (default: a short line). */
  readonly modelBytes?: number;
}

function modelContent(namespace: string, i: number, size: number | undefined): Buffer {
  const line = Buffer.from(`model ${namespace} ${i}\n`);
  return size === undefined ? line : Buffer.concat([line, Buffer.alloc(Math.max(0, size - line.length), i % 251)]);
}

export async function prepareBurst(env: TestEnv, kc: KubeConfig, spec: BurstSpec): Promise<{ runs: BurstRun[]; finish: () => Promise<void> }> {
  const { namespace, prefix, count, namePrefix = 'train' } = spec;
  const runs: BurstRun[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${namePrefix}-${String(i).padStart(3, '0')}`;
    const model = modelContent(namespace, i, spec.modelBytes);
    const modelUri = await uploadModel(env, `${prefix}/${namespace}/${name}/pytorch_model.pth`, model);
    await createTaskRun(kc, trainingTaskRun(namespace, name));
    runs.push({ name, modelUri });
  }
  const finish = async (): Promise<void> => {
    await Promise.all(runs.map(async (run, i) => {
      const model = modelContent(namespace, i, spec.modelBytes);
      await updateTaskRunStatus(kc, namespace, run.name, succeededStatus(`${run.name}-pod`, [modelOutput(run.modelUri, sha256(model))]));
    }));
  };
  return { runs, finish };
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
