// The side-by-side benchmark's tables (markdown): a summary per controller with the best and the
// median of the rounds, then every burst with its CPU by process and the load averages.
import type { BurstResult, IdleResult, SteadyResult } from './phases.ts';

const f = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const loads = (l: { before: number[]; after: number[] }): string => `${l.before.map((x) => x.toFixed(2)).join(' ')} → ${l.after.map((x) => x.toFixed(2)).join(' ')}`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

/** "best / median": best is the highest for throughput, the lowest for everything else. */
function bestMedian(values: number[], higherIsBetter = false, digits = 1): string {
  const best = higherIsBetter ? Math.max(...values) : Math.min(...values);
  return values.length > 1 ? `${f(best, digits)} / ${f(median(values), digits)}` : f(best, digits);
}

function groups<T extends { controller: string; configuration: string }>(rows: readonly T[]): Map<string, T[]> {
  const by = new Map<string, T[]>();
  for (const r of rows) by.set(`${r.controller}|${r.configuration}`, [...(by.get(`${r.controller}|${r.configuration}`) ?? []), r]);
  return by;
}

function summaryRow(key: string, rows: readonly BurstResult[], idle: IdleResult | undefined): string {
  const [controller, configuration] = key.split('|');
  const pick = (fn: (r: BurstResult) => number): number[] => rows.map(fn);
  const cells = [
    bestMedian(pick((r) => r.attestedPerSecond), true),
    bestMedian(pick((r) => r.p50), false, 2),
    bestMedian(pick((r) => r.p99), false, 2),
    bestMedian(pick((r) => r.peakRssMB)),
    bestMedian(pick((r) => r.cpuMsPerRun.controller ?? NaN), false, 2),
    bestMedian(pick((r) => r.cpuMsPerRun.all ?? NaN), false, 2),
    `${bestMedian(pick((r) => r.idleRssMB))} / ${idle ? f(idle.idleRssMB) : '—'} (${idle?.taskRuns ?? '—'})`,
    bestMedian(pick((r) => r.startupCpuSeconds), false, 2),
  ];
  return `| ${controller ?? ''} | ${configuration ?? ''} | ${cells.join(' | ')} |`;
}

function burstRow(r: BurstResult): string {
  const c = r.cpuMsPerRun;
  const cpu = ['controller', 'kube-apiserver', 'etcd', 'fake-gcs-server', 'driver', 'all'].map((k) => f(c[k] ?? NaN, 2));
  return `| ${r.round + 1} | ${r.controller} (${r.configuration.split(',').at(-1)?.trim() ?? ''}) | ${r.signed}/${r.runs} | ${f(r.attestedPerSecond)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.peakRssMB)} | ${cpu.join(' | ')} | ${loads(r.load)} |`;
}

export function burstTable(bursts: readonly BurstResult[], idles: readonly IdleResult[]): string {
  const lines = [
    '| controller | configuration | attested/s | p50 s | p99 s | peak RSS MB | controller CPU ms/run | all processes CPU ms/run | idle RSS MB (0 / N TaskRuns) | start-up CPU s |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const [key, rows] of groups(bursts)) lines.push(summaryRow(key, rows, idles.find((i) => `${i.controller}|${i.configuration}` === key)));
  lines.push('', 'Cells with two figures: best / median of the rounds.', '');
  lines.push('| round | controller | signed | attested/s | p50 s | p99 s | peak RSS MB | CPU ms/run: controller | kube-apiserver | etcd | fake-gcs-server | driver | all | load before → after |');
  lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of bursts) lines.push(burstRow(r));
  return lines.join('\n');
}

export function steadyTable(rows: readonly SteadyResult[]): string {
  const lines = [
    '| controller | finished runs/s, for | signed | p50 ms | p99 ms | max ms | peak RSS MB | controller CPU ms/run | all processes CPU ms/run | load before → after |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.controller} | ${r.rate}/s, ${r.seconds} s | ${r.signed} | ${f(r.p50Ms, 0)} | ${f(r.p99Ms, 0)} | ${f(r.maxMs, 0)} | ${f(r.peakRssMB)} | ${f(r.cpuMsPerRun.controller ?? NaN, 2)} | ${f(r.cpuMsPerRun.all ?? NaN, 2)} | ${loads(r.load)} |`);
  }
  return lines.join('\n');
}

export function idleTable(rows: readonly IdleResult[]): string {
  const lines = ['| controller | existing TaskRuns | idle RSS MB | peak RSS MB (start-up, list) | start-up CPU s | load before → after |', '|---|---:|---:|---:|---:|---|'];
  for (const r of rows) lines.push(`| ${r.controller} | ${r.taskRuns} | ${f(r.idleRssMB)} | ${f(r.peakRssMB)} | ${f(r.startupCpuSeconds, 2)} | ${loads(r.load)} |`);
  return lines.join('\n');
}
