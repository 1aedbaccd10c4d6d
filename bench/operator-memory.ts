// Benchmark: the operator's memory while it lists and watches many finished TaskRuns, some of
// them carrying large results. For each size it starts the real operator process watching one
// namespace that holds that many TaskRuns, and reports its peak RSS (VmHWM) and its steady RSS
// once every list is done. Figures are printed, never asserted.
//   node bench/operator-memory.ts [--sizes 0,1000,10000] [--large-every 20] [--large-kib 1024] [--settle 45]
//                                 [--list-wait 300] [--prepare-only] [--log-dir DIR]
// With --shape pipelines the sizes count PipelineRuns (default 0,400,2000), each with --children
// (default 5) child TaskRuns it controls, already attested (bench/lib/pipelines.ts).
// The runs stay in the environment: with SLSA_ML_ENV set (npm run env:up) a rerun measures
// again without recreating them.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { ENV_FILE, startEnvironment, stopEnvironment, readEnvInfo, type EnvInfo } from '../hack/env/environment.ts';
import { createBucket } from '../hack/env/fake-gcs.ts';
import { succeededStatus, trainingTaskRun } from '../test/support/tekton.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, type OperatorProcess } from '../test/support/operator-process.ts';
import { testEnv } from '../test/harness/index.ts';
import { fromKubeconfigFile, KubeApi } from '../operator/kube/index.ts';
import { BENCH_SEAL_KEY, fillPipelineRuns, pool } from './lib/pipelines.ts';

const { values } = parseArgs({ options: {
  /** `taskruns`: N standalone TaskRuns; `pipelines`: N PipelineRuns with --children TaskRuns each. */
  shape: { type: 'string', default: 'taskruns' },
  /** TaskRuns (shape taskruns, default 0,1000,10000) or PipelineRuns (shape pipelines, default 0,400,2000). */
  sizes: { type: 'string' },
  children: { type: 'string', default: '5' },
  'large-every': { type: 'string', default: '20' },
  'large-kib': { type: 'string', default: '1024' },
  concurrency: { type: 'string', default: '16' },
  settle: { type: 'string', default: '45' },
  /** How long to wait for the operator's "listed" log lines (an operator before them never writes one). */
  'list-wait': { type: 'string', default: '300' },
  /** The collections whose "listed" line starts the window (an operator without PipelineRuns: taskruns). */
  watched: { type: 'string', default: 'taskruns,pipelineruns' },
  'prepare-only': { type: 'boolean', default: false },
  /** Where to write each operator's output (e.g. with OPERATOR_NODE_OPTIONS=--trace-gc). */
  'log-dir': { type: 'string' },
} });
if (values.shape !== 'taskruns' && values.shape !== 'pipelines') throw new Error(`--shape: taskruns or pipelines, not ${values.shape}`);
const pipelines = values.shape === 'pipelines';
const sizes = (values.sizes ?? (pipelines ? '0,400,2000' : '0,1000,10000')).split(',').map(Number);
const childrenPerRun = pipelines ? Number(values.children) : 0;
const largeEvery = Number(values['large-every']);
const largeBytes = Number(values['large-kib']) * 1024;
const concurrency = Number(values.concurrency);
const settleMs = Number(values.settle) * 1000;
const listWaitMs = Number(values['list-wait']) * 1000;
const watched = values.watched.split(',').filter((c) => c !== '');
const MiB = 1024 * 1024;

const TASKRUNS = { group: 'tekton.dev', version: 'v1', plural: 'taskruns' } as const;

const ignoreConflict = (err: unknown): void => {
  if (!(err instanceof ApiException && err.code === 409)) throw err;
};

/**
 * One namespace per size, filled as the Tekton controller would (create, then the status
 * subresource). The runs trained nothing the operator attests (no type hints), so it lists and
 * watches them but queues none: what is measured is the watch. A ConfigMap marks a filled namespace.
 */
async function ensureTaskRuns(kc: KubeConfig, count: number): Promise<{ namespace: string; large: number; createdSeconds?: number }> {
  const namespace = `bench-memory-${count}`;
  const large = count === 0 ? 0 : Math.floor(count / largeEvery);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(ignoreConflict);
  const marker = await core.readNamespacedConfigMap({ namespace, name: 'bench-filled' }).catch(() => undefined);
  if (marker?.data?.count === String(count) && marker.data.largeBytes === String(largeBytes)) return { namespace, large };
  const started = Date.now();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const filler = 'r'.repeat(largeBytes);
  let done = 0;
  await pool(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => {
    const name = `run-${String(i).padStart(5, '0')}`;
    const body = trainingTaskRun(namespace, name);
    await custom.createNamespacedCustomObject({ ...TASKRUNS, namespace, body }).catch(ignoreConflict);
    const results = [{ name: 'accuracy', type: 'string' as const, value: '0.91' }];
    if (i % largeEvery === largeEvery - 1) results.push({ name: 'report', type: 'string', value: filler });
    const live = (await custom.getNamespacedCustomObject({ ...TASKRUNS, namespace, name })) as Record<string, unknown>;
    await custom.replaceNamespacedCustomObjectStatus({ ...TASKRUNS, namespace, name, body: { ...live, status: succeededStatus(`${name}-pod`, results) } });
    if (++done % 1000 === 0) console.error(`  ${namespace}: ${done}/${count}`);
  });
  const data = { count: String(count), largeBytes: String(largeBytes) };
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'bench-filled' }, data } }).catch(ignoreConflict);
  await core.replaceNamespacedConfigMap({ namespace, name: 'bench-filled', body: { metadata: { name: 'bench-filled' }, data } });
  return { namespace, large, createdSeconds: (Date.now() - started) / 1000 };
}

/**
 * One namespace per size, `bench-pipelines-<P>x<C>`: P finished PipelineRuns with C child TaskRuns
 * each (bench/lib/pipelines.ts), the same large results per child TaskRun as ensureTaskRuns. The
 * outcomes are sealed with BENCH_SEAL_KEY, so the operator queues none. A ConfigMap marks a filled namespace.
 */
async function ensurePipelineRuns(kc: KubeConfig, api: KubeApi, count: number): Promise<{ namespace: string; large: number; createdSeconds?: number }> {
  const namespace = `bench-pipelines-${count}x${childrenPerRun}`;
  const large = Math.floor((count * childrenPerRun) / largeEvery);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(ignoreConflict);
  const data = { pipelineRuns: String(count), children: String(childrenPerRun), largeEvery: String(largeEvery), largeBytes: String(largeBytes), sealKey: 'bench' };
  const marker = await core.readNamespacedConfigMap({ namespace, name: 'bench-filled' }).catch(() => undefined);
  if (Object.entries(data).every(([k, v]) => marker?.data?.[k] === v)) return { namespace, large };
  const started = Date.now();
  await fillPipelineRuns(api, { namespace, pipelineRuns: count, childrenPerRun, largeEvery, largeBytes, concurrency }, (done) => {
    if (done % 200 === 0) console.error(`  ${namespace}: ${done}/${count} PipelineRuns (${Math.round((Date.now() - started) / 1000)} s)`);
  });
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'bench-filled' }, data } }).catch(ignoreConflict);
  await core.replaceNamespacedConfigMap({ namespace, name: 'bench-filled', body: { metadata: { name: 'bench-filled' }, data } });
  return { namespace, large, createdSeconds: (Date.now() - started) / 1000 };
}

interface Sample { at: number; rss: number; hwm: number }

/** User + system CPU seconds the process has used so far. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

function sample(pid: number): Sample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { at: Date.now(), rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Resident memory by kind of mapping: the node binary and libraries, malloc's brk heap, other anonymous memory (V8, mmap'd malloc). */
function rssBreakdown(pid: number): Record<string, number | undefined> {
  const kb: Record<string, number> = { files: 0, mallocHeap: 0, anonymous: 0 };
  let kind = 'anonymous';
  try {
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (mapping) kind = mapping[1] === '[heap]' ? 'mallocHeap' : mapping[1]?.startsWith('/') ? 'files' : 'anonymous';
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss) kb[kind] = (kb[kind] ?? 0) + Number(rss[1]);
    }
  } catch {
    return {};
  }
  return Object.fromEntries(Object.entries(kb).map(([k, v]) => [k, mib(v * 1024)]));
}

/** Each metric's value, summed over its labelled series. */
async function scrape(operator: OperatorProcess, metrics: readonly string[]): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${operator.port}/metrics`).then((r) => r.text(), () => '');
  const found: Record<string, number> = {};
  for (const metric of metrics) {
    for (const m of text.matchAll(new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)`, 'gm'))) found[metric] = (found[metric] ?? 0) + Number(m[1]);
  }
  return found;
}

/**
 * The V8 heap (committed and used) and the memory held outside it (Buffers), from the operator's
 * /metrics; and its work queue, which should stay empty (every run is attested already or has nothing to attest).
 */
const HEAP = ['nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes', 'slsa_ml_queue_depth'] as const;

/** Polls the operator's /metrics and keeps the largest value of each HEAP metric. */
function heapPoller(operator: OperatorProcess): { stop(): Promise<Record<string, number>> } {
  const peak: Record<string, number> = {};
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const [k, v] of Object.entries(await scrape(operator, HEAP))) peak[k] = Math.max(peak[k] ?? 0, v);
      await sleep(500);
    }
  })();
  return { stop: async () => { stopped = true; await loop; return peak; } };
}

/** OPERATOR_NODE_OPTIONS becomes the operator's NODE_OPTIONS; OPERATOR_ENV_X=v becomes X=v (e.g. malloc tuning). */
function operatorEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  if (process.env.OPERATOR_NODE_OPTIONS) env.NODE_OPTIONS = process.env.OPERATOR_NODE_OPTIONS;
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('OPERATOR_ENV_') && v !== undefined) env[k.slice('OPERATOR_ENV_'.length)] = v;
  return env;
}

const mib = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : Number((bytes / MiB).toFixed(1)));

/** The key file the operator seals (and checks) outcomes with: the one the PipelineRun workload was sealed with. */
function benchSealKeyPath(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'slsa-ml-bench-seal-')), 'seal.key');
  writeFileSync(path, `${BENCH_SEAL_KEY}\n`, { mode: 0o600 });
  return path;
}

interface Listed { path?: string; objects?: number; ms?: number; via?: string }

/**
 * Waits until every watched collection is listed: each reflector logs its first completed list.
 * An older reflector logs nothing (and one without PipelineRuns lists only TaskRuns): then the
 * window starts after --list-wait.
 */
async function waitListed(operator: OperatorProcess, started: number): Promise<Map<string, Listed>> {
  const listedLines = (): Map<string, Listed> => {
    const found = new Map<string, Listed>();
    for (const line of operator.output().split('\n')) {
      if (!line.includes('"message":"listed"')) continue;
      const l = JSON.parse(line) as Listed;
      const collection = watched.find((c) => l.path?.endsWith(`/${c}`));
      if (collection && !found.has(collection)) found.set(collection, l);
    }
    return found;
  };
  let listed = listedLines();
  while (listed.size < watched.length && Date.now() - started < listWaitMs) {
    await sleep(200);
    listed = listedLines();
  }
  return listed;
}

/** What was watched, and how each collection was listed. */
function workloadFigures(count: number, listed: Map<string, Listed>): Record<string, unknown> {
  return {
    ...(pipelines
      ? { pipelineRuns: count, taskRuns: count * childrenPerRun, withLargeResults: Math.floor((count * childrenPerRun) / largeEvery) }
      : { taskRuns: count, withLargeResults: Math.floor(count / largeEvery) }),
    listed: Object.fromEntries(watched.map((c) => {
      const l = listed.get(c);
      return [c, l ? { objects: l.objects, via: l.via, ms: l.ms } : 'no "listed" log line within --list-wait (old reflector, or not watched)'];
    })),
  };
}

async function measure(namespace: string, count: number): Promise<Record<string, unknown>> {
  const env = testEnv();
  const keys = generateSigningKeys();
  const loadAtStart = loadavg()[0] ?? 0;
  const operator = await startOperator(env, {
    ...(pipelines ? { seal: { keyPath: benchSealKeyPath() } } : {}),
    namespaces: [namespace],
    allowedPrefixes: ['gs://bench/models/'],
    storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
    signer: { kind: 'key', keyPath: keys.privateKeyPath },
    builderId: 'https://slsa-ml.dev/operator/bench',
    leaderElection: { enabled: false },
    watch: { relistSeconds: 3600, stallSeconds: 120 },
    logLevel: 'info',
  }, operatorEnv());
  const pid = operator.child.pid ?? 0;
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    const s = sample(pid);
    if (s) samples.push(s);
  }, 100);
  const started = Date.now();
  await operator.ready(120_000);
  const cpuAtReady = cpuSeconds(pid) ?? 0;
  const heap = heapPoller(operator);
  const listed = await waitListed(operator, started);
  const listedAt = Date.now();
  await sleep(settleMs);
  clearInterval(sampler);
  const heapPeak = await heap.stop();
  const breakdown = rssBreakdown(pid);
  const cpu = (cpuSeconds(pid) ?? 0) - cpuAtReady;
  const end = await scrape(operator, [...HEAP, 'slsa_ml_watch_restarts_total', 'slsa_ml_attestations_total']);
  await operator.stop('SIGTERM');
  if (values['log-dir']) writeFileSync(join(values['log-dir'], `operator-${pipelines ? 'pipelines-' : ''}${count}.log`), operator.output());
  const warnings = operator.output().split('\n').filter((l) => /"severity":"(WARNING|ERROR)"/.test(l)).slice(0, 3);
  const last = samples.at(-1);
  // Steady: the median RSS over the last third of the settle window, long after the list.
  const tail = samples.filter((s) => s.at >= listedAt + (settleMs * 2) / 3).map((s) => s.rss).sort((a, b) => a - b);
  return {
    ...workloadFigures(count, listed),
    loadAverage1m: [Number(loadAtStart.toFixed(2)), Number((loadavg()[0] ?? 0).toFixed(2))],
    cpuSecondsAfterReady: Number(cpu.toFixed(1)),
    peakRssMiB: mib(last?.hwm),
    steadyRssMiB: mib(tail[Math.floor(tail.length / 2)]),
    steadyRssByMappingMiB: breakdown,
    v8HeapMiB: {
      peakCommitted: mib(heapPeak.nodejs_heap_size_total_bytes),
      peakUsed: mib(heapPeak.nodejs_heap_size_used_bytes),
      steadyCommitted: mib(end.nodejs_heap_size_total_bytes),
      steadyUsed: mib(end.nodejs_heap_size_used_bytes),
    },
    externalMiB: { peak: mib(heapPeak.nodejs_external_memory_bytes), steady: mib(end.nodejs_external_memory_bytes) },
    watchRestarts: end.slsa_ml_watch_restarts_total,
    // Both 0 when the operator only watched: nothing queued, nothing attested.
    queueDepthPeak: heapPeak.slsa_ml_queue_depth,
    attestations: end.slsa_ml_attestations_total,
    ...(warnings.length ? { warnings } : {}),
  };
}

let owned: EnvInfo | undefined;
if (!process.env.SLSA_ML_ENV) {
  owned = await startEnvironment();
  process.env.SLSA_ML_ENV = join(owned.stateDir, ENV_FILE);
}
const info = readEnvInfo(process.env.SLSA_ML_ENV);
process.env.SLSA_ML_TEST_BUCKET = 'bench';
await createBucket(info.gcsEndpoint, 'bench', 'bench').catch(() => undefined); // exists on a rerun
const env = testEnv();
await applyOperatorRbac(env);
const admin = new KubeConfig();
admin.loadFromFile(info.kubeconfig);
admin.setCurrentContext('admin');
/** The lean client (pooled connections) fills the PipelineRun namespaces: 13 requests per PipelineRun of 5. */
const adminApi = new KubeApi(fromKubeconfigFile(info.kubeconfig, 'admin'));

const loadBefore = loadavg();
const results: Array<Record<string, unknown>> = [];
for (const count of sizes) {
  const what = pipelines ? `${count} PipelineRuns (${count * childrenPerRun} TaskRuns)` : `${count} TaskRuns`;
  console.error(`${what}: preparing…`);
  const { namespace, createdSeconds } = pipelines ? await ensurePipelineRuns(admin, adminApi, count) : await ensureTaskRuns(admin, count);
  if (values['prepare-only']) {
    console.error(`${what} ready in ${namespace}${createdSeconds === undefined ? ' (already there)' : ` after ${createdSeconds} s`}`);
    continue;
  }
  console.error(`${what}: measuring for ${settleMs / 1000} s after the lists…`);
  results.push({ ...(await measure(namespace, count)), ...(createdSeconds !== undefined ? { createdSeconds } : {}) });
}
console.log(JSON.stringify({
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, kubeApiserver: info.kubeVersion },
  shape: values.shape,
  ...(pipelines ? { childTaskRunsPerPipelineRun: childrenPerRun } : {}),
  largeResultKiB: largeBytes / 1024,
  largeResultEvery: largeEvery,
  settleSeconds: settleMs / 1000,
  loadAverage: { before: loadBefore.map((l) => Number(l.toFixed(2))), after: loadavg().map((l) => Number(l.toFixed(2))) },
  results,
}, null, 2));
if (owned) await stopEnvironment(readEnvInfo(join(owned.stateDir, ENV_FILE)));
