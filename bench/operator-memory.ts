// Benchmark: the operator's memory while it lists and watches many finished TaskRuns, some of
// them carrying large results. For each size it starts the real operator process watching one
// namespace that holds that many TaskRuns, and reports its peak RSS (VmHWM) and its steady RSS
// once the list is done. Figures are printed, never asserted.
//   node bench/operator-memory.ts [--sizes 0,1000,10000] [--large-every 20] [--large-kib 1024] [--settle 45]
//                                 [--list-wait 300] [--prepare-only] [--log-dir DIR]
// The TaskRuns stay in the environment: with SLSA_ML_ENV set (npm run env:up) a rerun measures
// again without recreating them.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { ENV_FILE, startEnvironment, stopEnvironment, readEnvInfo, type EnvInfo } from '../hack/env/environment.ts';
import { createBucket } from '../hack/env/fake-gcs.ts';
import { succeededStatus, trainingTaskRun } from '../test/support/tekton.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, type OperatorProcess } from '../test/support/operator-process.ts';
import { testEnv } from '../test/harness/index.ts';

const { values } = parseArgs({ options: {
  sizes: { type: 'string', default: '0,1000,10000' },
  'large-every': { type: 'string', default: '20' },
  'large-kib': { type: 'string', default: '1024' },
  concurrency: { type: 'string', default: '16' },
  settle: { type: 'string', default: '45' },
  /** How long to wait for the operator's "listed" log line (an operator before it never writes one). */
  'list-wait': { type: 'string', default: '300' },
  'prepare-only': { type: 'boolean', default: false },
  /** Where to write each operator's output (e.g. with OPERATOR_NODE_OPTIONS=--trace-gc). */
  'log-dir': { type: 'string' },
} });
const sizes = values.sizes.split(',').map(Number);
const largeEvery = Number(values['large-every']);
const largeBytes = Number(values['large-kib']) * 1024;
const concurrency = Number(values.concurrency);
const settleMs = Number(values.settle) * 1000;
const listWaitMs = Number(values['list-wait']) * 1000;
const MiB = 1024 * 1024;

const TASKRUNS = { group: 'tekton.dev', version: 'v1', plural: 'taskruns' } as const;

/** Runs fn over items with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

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

async function scrape(operator: OperatorProcess, metrics: readonly string[]): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${operator.port}/metrics`).then((r) => r.text(), () => '');
  const found: Record<string, number> = {};
  for (const metric of metrics) {
    const value = new RegExp(`^${metric} (\\S+)`, 'm').exec(text)?.[1];
    if (value !== undefined) found[metric] = Number(value);
  }
  return found;
}

/** The V8 heap (committed and used) and the memory held outside it (Buffers), from the operator's /metrics. */
const HEAP = ['nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes'] as const;

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

async function measure(namespace: string, count: number): Promise<Record<string, unknown>> {
  const env = testEnv();
  const keys = generateSigningKeys();
  const operator = await startOperator(env, {
    namespaces: [namespace],
    allowedPrefixes: ['gs://bench/models/'],
    storage: { gcs: { apiEndpoint: env.gcsEndpoint, projectId: 'bench' } },
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
  // The reflector logs each completed list; an older one logs nothing, and the window starts after --list-wait.
  const listedLine = (): { objects?: number; ms?: number; via?: string } | undefined => {
    for (const line of operator.output().split('\n')) {
      if (line.includes('"message":"listed"')) return JSON.parse(line) as { objects?: number; ms?: number; via?: string };
    }
    return undefined;
  };
  const cpuAtReady = cpuSeconds(pid) ?? 0;
  const heap = heapPoller(operator);
  let listed = listedLine();
  while (!listed && Date.now() - started < listWaitMs) {
    await sleep(200);
    listed = listedLine();
  }
  const listedAt = Date.now();
  await sleep(settleMs);
  clearInterval(sampler);
  const heapPeak = await heap.stop();
  const breakdown = rssBreakdown(pid);
  const cpu = (cpuSeconds(pid) ?? 0) - cpuAtReady;
  const end = await scrape(operator, [...HEAP, 'slsa_ml_watch_restarts_total']);
  await operator.stop('SIGTERM');
  if (values['log-dir']) writeFileSync(join(values['log-dir'], `operator-${count}.log`), operator.output());
  const warnings = operator.output().split('\n').filter((l) => /"severity":"(WARNING|ERROR)"/.test(l)).slice(0, 3);
  const last = samples.at(-1);
  // Steady: the median RSS over the last third of the settle window, long after the list.
  const tail = samples.filter((s) => s.at >= listedAt + (settleMs * 2) / 3).map((s) => s.rss).sort((a, b) => a - b);
  return {
    taskRuns: count,
    withLargeResults: count === 0 ? 0 : Math.floor(count / largeEvery),
    listed: listed ? { objects: listed.objects, via: listed.via, ms: listed.ms } : 'no "listed" log line (old reflector)',
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

const loadBefore = loadavg();
const results: Array<Record<string, unknown>> = [];
for (const count of sizes) {
  console.error(`${count} TaskRuns: preparing…`);
  const { namespace, createdSeconds } = await ensureTaskRuns(admin, count);
  if (values['prepare-only']) {
    console.error(`${count} TaskRuns ready in ${namespace}${createdSeconds === undefined ? ' (already there)' : ` after ${createdSeconds} s`}`);
    continue;
  }
  console.error(`${count} TaskRuns: measuring for ${settleMs / 1000} s after the list…`);
  results.push({ ...(await measure(namespace, count)), ...(createdSeconds !== undefined ? { createdSeconds } : {}) });
}
console.log(JSON.stringify({
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, kubeApiserver: info.kubeVersion },
  largeResultKiB: largeBytes / 1024,
  settleSeconds: settleMs / 1000,
  loadAverage: { before: loadBefore.map((l) => Number(l.toFixed(2))), after: loadavg().map((l) => Number(l.toFixed(2))) },
  results,
}, null, 2));
if (owned) await stopEnvironment(readEnvInfo(join(owned.stateDir, ENV_FILE)));
