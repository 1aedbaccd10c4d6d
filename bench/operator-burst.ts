// Benchmark: a burst of N training TaskRuns finishing at once (small models, local key, fake
// GCS). Reports TaskRuns attested per second, p50/p99 from completion to the outcome being
// visible on the TaskRun, and the operator's peak RSS. Figures are printed, never asserted.
//   node bench/operator-burst.ts [--runs 500] [--workers 16]
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch } from '@kubernetes/client-node';
import { ENV_FILE, startEnvironment, stopEnvironment, readEnvInfo, type EnvInfo } from '../hack/env/environment.ts';
import { createBucket } from '../hack/env/fake-gcs.ts';
import { createTaskRun, succeededStatus, trainingTaskRun, updateTaskRunStatus } from '../test/support/tekton.ts';
import { modelOutput, sha256 } from '../test/support/training-run.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator } from '../test/support/operator-process.ts';
import { newNamespace, testEnv } from '../test/harness/index.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '500' }, workers: { type: 'string', default: '16' } } });
const runs = Number(values.runs);
const workers = Number(values.workers);

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

let owned: EnvInfo | undefined;
if (!process.env.SLSA_ML_ENV) {
  owned = await startEnvironment();
  process.env.SLSA_ML_ENV = join(owned.stateDir, ENV_FILE);
}
const info = readEnvInfo(process.env.SLSA_ML_ENV);
process.env.SLSA_ML_TEST_BUCKET = 'bench';
await createBucket(info.gcsEndpoint, 'bench', 'bench');
const env = testEnv();
const admin = env.kubeConfig('admin');
await applyOperatorRbac(env);
const keys = generateSigningKeys();
const ns = await newNamespace(env, 'bench');
const names = Array.from({ length: runs }, (_, i) => `train-${i}`);
const bucket = env.storageClient().bucket('bench');

console.error(`preparing ${runs} models and TaskRuns…`);
await inBatches(names, 50, (name) => bucket.file(`models/${name}/pytorch_model.pth`).save(Buffer.from(`weights ${name}`), { resumable: false }));
await inBatches(names, 50, (name) => createTaskRun(admin, trainingTaskRun(ns, name)));

const operator = await startOperator(env, {
  allowedPrefixes: ['gs://bench/models/'],
  storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
  signer: { kind: 'key', keyPath: keys.privateKeyPath },
  builderId: 'https://slsa-ml.dev/operator/bench',
  leaderElection: { enabled: false },
  finalizer: { enabled: false, maxHoldSeconds: 600 },
  workers,
  logLevel: 'warn',
}, process.env.OPERATOR_NODE_OPTIONS ? { NODE_OPTIONS: process.env.OPERATOR_NODE_OPTIONS } : {});
await operator.ready();

const completedAt = new Map<string, number>();
const decidedAt = new Map<string, number>();
let outcomeFailures = 0;
const watch = await new Watch(admin).watch(`/apis/tekton.dev/v1/namespaces/${ns}/taskruns`, {}, (_type, obj: { metadata: { name: string; annotations?: Record<string, string> } }) => {
  const v = obj.metadata.annotations?.['slsa-ml.dev/signed'];
  if (v && !decidedAt.has(obj.metadata.name)) {
    decidedAt.set(obj.metadata.name, Date.now());
    if (v !== 'true') outcomeFailures++;
  }
}, () => undefined);

let peakRss = 0;
const sampler = setInterval(() => {
  try {
    const status = readFileSync(`/proc/${operator.child.pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    if (hwm?.[1]) peakRss = Math.max(peakRss, Number(hwm[1]) * 1024);
  } catch { /* exited */ }
}, 200);

console.error(`finishing ${runs} TaskRuns at once…`);
const burstStart = Date.now();
await inBatches(names, 100, async (name) => {
  completedAt.set(name, Date.now());
  await updateTaskRunStatus(admin, ns, name, succeededStatus(`${name}-pod`, [modelOutput(`gs://bench/models/${name}/pytorch_model.pth`, sha256(`weights ${name}`))]));
});
const burstSent = Date.now();
while (decidedAt.size < runs && Date.now() - burstStart < 600_000) await sleep(100);
const end = Math.max(...decidedAt.values());
clearInterval(sampler);
watch.abort();
await operator.stop('SIGTERM');

const latencies = names.filter((n) => decidedAt.has(n)).map((n) => ((decidedAt.get(n) ?? 0) - (completedAt.get(n) ?? 0)) / 1000).sort((a, b) => a - b);
const seconds = (end - burstStart) / 1000;
console.log(JSON.stringify({
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  runs, workers, decided: decidedAt.size, failed: outcomeFailures,
  burstSubmitSeconds: (burstSent - burstStart) / 1000,
  totalSeconds: seconds,
  attestedPerSecond: Number((decidedAt.size / seconds).toFixed(1)),
  completionToStored: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) },
  operatorPeakRssMB: Number((peakRss / 1024 / 1024).toFixed(1)),
}, null, 2));
if (owned) await stopEnvironment(readEnvInfo(join(owned.stateDir, ENV_FILE)));
