// What the benchmarks read about a process from /proc: CPU time (utime + stime) and resident
// memory (now, and the peak since the last reset).
import { readFileSync, writeFileSync } from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU time in clock ticks of 1/100 s on Linux. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds the process has used so far (undefined once it has exited). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** This process's own CPU seconds (finer than /proc's ticks). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface Memory {
  readonly rssMB: number;
  /** Peak RSS (VmHWM) since the process started or since resetPeak(). */
  readonly peakMB: number;
}

export function memory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0, own processes), so a peak can be taken over one phase. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface CpuSnapshot { readonly [name: string]: number }

/** CPU seconds of each named process; the driver (this process) as `driver`. */
export function cpuSnapshot(pids: Readonly<Record<string, number>>): CpuSnapshot {
  const snapshot: Record<string, number> = { driver: ownCpuSeconds() };
  for (const [name, pid] of Object.entries(pids)) snapshot[name] = cpuSeconds(pid) ?? NaN;
  return snapshot;
}

/** CPU seconds each process spent between two snapshots. */
export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? NaN) - (before[k] ?? NaN)]));
}
