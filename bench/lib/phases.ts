// The three things the side-by-side benchmark does with each controller: a burst of finished runs,
// a steady rate of them, and idling beside many existing TaskRuns.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterAccess } from '../../operator/kube/index.ts';
import type { BenchEnv } from './bench-env.ts';
import type { ControllerSpec, RunningController } from './controller.ts';
import { cpuSnapshot, cpuSpent, memory, resetPeak } from './procs.ts';
import { cleanNamespace, countFinalized, ensureNamespaceAndNodes, finish, pool, prepareRuns, SignedWatch, type Run } from './workload.ts';

export interface Common {
  readonly controller: string;
  readonly configuration: string;
  readonly load: { before: number[]; after: number[] };
}

export interface BurstResult extends Common {
  readonly round: number;
  readonly runs: number;
  readonly signed: number;
  readonly failed: number;
  readonly attestedPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly peakRssMB: number;
  readonly idleRssMB: number;
  readonly startupCpuSeconds: number;
  /** CPU ms per attested run, by process, and all of them together. */
  readonly cpuMsPerRun: Record<string, number>;
}

export interface SteadyResult extends Common {
  readonly rate: number;
  readonly seconds: number;
  readonly signed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly peakRssMB: number;
  readonly cpuMsPerRun: Record<string, number>;
}

export interface IdleResult extends Common {
  readonly taskRuns: number;
  readonly idleRssMB: number;
  readonly peakRssMB: number;
  readonly startupCpuSeconds: number;
}

const SETTLE_MS = 10_000;
const short = (spec: ControllerSpec): string => (spec.name.split(' ')[0] ?? 'c').toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 30);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Starts the controller on an empty fake GCS and waits until it leads and watches. */
async function started(env: BenchEnv, spec: ControllerSpec, label: string, profileDir?: string): Promise<{ ctl: RunningController; startupCpu: number }> {
  await env.resetGcs();
  const ctl = await spec.start(env, { label, ...(profileDir ? { profileDir } : {}) });
  const startupCpu = await ctl.ready().catch(async (err: unknown) => {
    await ctl.stop();
    throw err;
  });
  return { ctl, startupCpu };
}

/** Creates the runs while the controller watches, then lets what that causes (Chains' finalizers) settle. */
async function prepared(env: BenchEnv, spec: ControllerSpec, namespace: string, count: number): Promise<Run[]> {
  await ensureNamespaceAndNodes(env.api, namespace);
  const runs = await prepareRuns(env.api, env.gcsEndpoint(), namespace, count);
  if (spec.finalizer) {
    const deadline = Date.now() + 300_000;
    while ((await countFinalized(env.api, namespace, spec.finalizer)) < count && Date.now() < deadline) await sleep(500);
  }
  await sleep(SETTLE_MS);
  return runs;
}

/** From here on: decisions seen on a watch, the controller's peak RSS, every process's CPU. */
async function startMeasuring(env: BenchEnv, access: ClusterAccess, spec: ControllerSpec, label: string, ctl: RunningController): Promise<{ watch: SignedWatch; pids: Record<string, number>; cpu0: ReturnType<typeof cpuSnapshot> }> {
  const watch = new SignedWatch(access, env.api, label, spec.annotation);
  await watch.start();
  resetPeak(ctl.pid);
  const pids = { ...env.pids(), controller: ctl.pid };
  return { watch, pids, cpu0: cpuSnapshot(pids) };
}

function perRun(spent: Record<string, number>, runs: number): Record<string, number> {
  const ms = Object.fromEntries(Object.entries(spent).map(([k, v]) => [k, (v * 1000) / runs]));
  ms.all = Object.values(spent).reduce((a, b) => a + b, 0) * 1000 / runs;
  return ms;
}

export async function burst(env: BenchEnv, access: ClusterAccess, spec: ControllerSpec, options: { runs: number; round: number; profileDir?: string }): Promise<BurstResult> {
  const label = `burst-${short(spec)}-${options.round}`;
  const before = loadavg();
  console.error(`${label}: starting ${spec.name}; load ${before.map((l) => l.toFixed(2)).join(' ')}`);
  const { ctl, startupCpu } = await started(env, spec, label, options.profileDir);
  try {
    await sleep(SETTLE_MS);
    const idleRssMB = memory(ctl.pid)?.rssMB ?? NaN;
    const runs = await prepared(env, spec, label, options.runs);
    const { watch, pids, cpu0 } = await startMeasuring(env, access, spec, label, ctl);
    const sent = new Map<string, number>();
    console.error(`${label}: releasing ${runs.length} finished TaskRuns`);
    const t0 = Date.now();
    const profiling = ctl.profileWindow?.(20);
    await pool(runs, 50, async (run) => sent.set(run.name, await finish(env.api, label, run)));
    await watch.until(runs.length, 600_000);
    const cpu1 = cpuSnapshot(pids);
    const peakRssMB = memory(ctl.pid)?.peakMB ?? NaN;
    await watch.stop();
    await profiling;
    const decided = [...watch.decided.entries()];
    const end = Math.max(...decided.map(([, d]) => d.at));
    const latencies = decided.map(([name, d]) => (d.at - (sent.get(name) ?? t0)) / 1000).sort((a, b) => a - b);
    const signed = decided.filter(([, d]) => d.value === spec.signedValue).length;
    console.error(`${label}: ${signed}/${runs.length} signed in ${((end - t0) / 1000).toFixed(1)} s`);
    return {
      controller: spec.name, configuration: spec.configuration, round: options.round, runs: runs.length, signed, failed: decided.length - signed,
      attestedPerSecond: decided.length / ((end - t0) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99),
      peakRssMB, idleRssMB, startupCpuSeconds: startupCpu, cpuMsPerRun: perRun(cpuSpent(cpu0, cpu1), signed),
      load: { before, after: loadavg() },
    };
  } finally {
    await ctl.stop();
    saveLog(label, ctl);
    await cleanNamespace(env.api, label);
  }
}

/** With BENCH_LOG_DIR set, each controller's output is kept there. */
function saveLog(label: string, ctl: RunningController): void {
  if (process.env.BENCH_LOG_DIR) writeFileSync(join(process.env.BENCH_LOG_DIR, `${label}.log`), ctl.output());
}

export async function steady(env: BenchEnv, access: ClusterAccess, spec: ControllerSpec, options: { rate: number; seconds: number }): Promise<SteadyResult> {
  const label = `steady-${short(spec)}`;
  const before = loadavg();
  const count = Math.round(options.rate * options.seconds);
  console.error(`${label}: starting ${spec.name}; load ${before.map((l) => l.toFixed(2)).join(' ')}`);
  const { ctl } = await started(env, spec, label);
  try {
    const runs = await prepared(env, spec, label, count);
    const { watch, pids, cpu0 } = await startMeasuring(env, access, spec, label, ctl);
    const sent = new Map<string, number>();
    console.error(`${label}: finishing ${options.rate} TaskRuns a second for ${options.seconds} s`);
    const t0 = Date.now();
    const writes: Array<Promise<void>> = [];
    for (const [i, run] of runs.entries()) {
      const due = t0 + (i * 1000) / options.rate;
      if (due > Date.now()) await sleep(due - Date.now());
      writes.push(finish(env.api, label, run).then((at) => void sent.set(run.name, at)));
    }
    await Promise.all(writes);
    await watch.until(runs.length, 120_000);
    const cpu1 = cpuSnapshot(pids);
    const peakRssMB = memory(ctl.pid)?.peakMB ?? NaN;
    await watch.stop();
    const decided = [...watch.decided.entries()];
    const latencies = decided.map(([name, d]) => d.at - (sent.get(name) ?? t0)).sort((a, b) => a - b);
    const signed = decided.filter(([, d]) => d.value === spec.signedValue).length;
    console.error(`${label}: ${signed}/${runs.length} signed; p99 ${percentile(latencies, 99)} ms`);
    return {
      controller: spec.name, configuration: spec.configuration, rate: options.rate, seconds: options.seconds, signed,
      p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) ?? NaN,
      peakRssMB, cpuMsPerRun: perRun(cpuSpent(cpu0, cpu1), signed), load: { before, after: loadavg() },
    };
  } finally {
    await ctl.stop();
    await cleanNamespace(env.api, label);
  }
}

/**
 * `count` finished TaskRuns that neither controller has anything to do with: no model output (slsa-ml
 * ignores them) and already marked signed (Chains skips them, after adding its finalizer).
 */
export async function prepareIdle(env: BenchEnv, count: number): Promise<string> {
  const namespace = 'idle';
  await ensureNamespaceAndNodes(env.api, namespace);
  console.error(`idle: creating ${count} finished TaskRuns`);
  const path = `/apis/tekton.dev/v1/namespaces/${namespace}/taskruns`;
  await pool(Array.from({ length: count }, (_, i) => `done-${String(i).padStart(5, '0')}`), 32, async (name) => {
    await env.api.request({ method: 'POST', path, body: {
      apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name, namespace, annotations: { 'chains.tekton.dev/signed': 'true' } },
      spec: { taskRef: { name: 'evaluate', kind: 'Task' }, serviceAccountName: 'default' },
    } });
    const now = new Date().toISOString();
    await env.api.request({ method: 'PATCH', path: `${path}/${name}/status`, contentType: 'application/merge-patch+json', body: { status: {
      podName: `${name}-pod`, startTime: now, completionTime: now,
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded', lastTransitionTime: now }],
      results: [{ name: 'accuracy', type: 'string', value: '0.91' }],
    } } });
  });
  return namespace;
}

/** Starts the controller beside the idle namespace's TaskRuns and reads its RSS once it has settled. */
export async function idleWith(env: BenchEnv, spec: ControllerSpec, _namespace: string, count: number): Promise<IdleResult> {
  const before = loadavg();
  console.error(`idle-${short(spec)}: ${spec.name} beside ${count} TaskRuns`);
  const { ctl, startupCpu } = await started(env, spec, `idle-${short(spec)}`);
  try {
    await sleep(3 * SETTLE_MS);
    const mem = memory(ctl.pid);
    return {
      controller: spec.name, configuration: spec.configuration, taskRuns: count, idleRssMB: mem?.rssMB ?? NaN, peakRssMB: mem?.peakMB ?? NaN,
      startupCpuSeconds: startupCpu, load: { before, after: loadavg() },
    };
  } finally {
    await ctl.stop();
  }
}
