// A Prometheus registry with what the operator uses: counters (one optional label), gauges
// (set, or read when scraped), a histogram, and the process metrics, in the text format 0.0.4.
// prom-client did this with 80+ modules loaded at start-up (its OpenTelemetry bridge among them)
// and an event-loop-delay monitor sampling every 10 ms whether anyone scrapes or not; here the
// process metrics are read only when /metrics is asked for.
import { readdirSync, readFileSync } from 'node:fs';
import { memoryUsage } from 'node:process';

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** Sample lines, without the # HELP / # TYPE header. */
  samples(): string[];
}

const format = (v: number): string => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');
const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labels = (pairs: ReadonlyArray<readonly [string, string]>): string => (pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}` : '');

export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  readonly #metrics: Metric[] = [];

  add(metric: Metric): void {
    this.#metrics.push(metric);
  }

  metrics(): Promise<string> {
    const out: string[] = [];
    for (const m of this.#metrics) out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.samples());
    return Promise.resolve(`${out.join('\n')}\n`);
  }

  /** A counter with no label, or with one label whose values are the keys it is incremented under. */
  counter(name: string, help: string, label?: string): { inc(value?: string, by?: number): void } {
    const values = new Map<string, number>();
    this.add({ name, help, type: 'counter', samples: () => [...values].map(([v, n]) => `${name}${label ? labels([[label, v]]) : ''} ${format(n)}`) });
    return { inc: (value = '', by = 1) => void values.set(value, (values.get(value) ?? 0) + by) };
  }

  /** A gauge that is set, or — with `read` — read when scraped. Constant labels are allowed. */
  gauge(name: string, help: string, options: { read?: () => number; labels?: Record<string, string> } = {}): { set(v: number): void } {
    let value = 0;
    const suffix = labels(Object.entries(options.labels ?? {}));
    this.add({ name, help, type: 'gauge', samples: () => [`${name}${suffix} ${format(options.read ? options.read() : value)}`] });
    return { set: (v) => { value = v; } };
  }

  histogram(name: string, help: string, buckets: readonly number[]): { observe(v: number): void } {
    const counts = buckets.map(() => 0);
    let sum = 0;
    let count = 0;
    this.add({
      name, help, type: 'histogram',
      samples: () => [
        ...buckets.map((le, i) => `${name}_bucket{le="${le}"} ${counts[i] ?? 0}`),
        `${name}_bucket{le="+Inf"} ${count}`,
        `${name}_sum ${format(sum)}`,
        `${name}_count ${count}`,
      ],
    });
    return {
      observe: (v) => {
        for (const [i, le] of buckets.entries()) if (v <= le) counts[i] = (counts[i] ?? 0) + 1;
        sum += v;
        count++;
      },
    };
  }
}

/** The standard process and Node.js metrics, under the names client libraries use. */
export function addProcessMetrics(registry: Registry): void {
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  const cpu = (): NodeJS.CpuUsage => process.cpuUsage();
  registry.add({ name: 'process_cpu_user_seconds_total', help: 'Total user CPU time spent in seconds.', type: 'counter', samples: () => [`process_cpu_user_seconds_total ${cpu().user / 1e6}`] });
  registry.add({ name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', type: 'counter', samples: () => [`process_cpu_system_seconds_total ${cpu().system / 1e6}`] });
  registry.add({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', type: 'counter', samples: () => { const c = cpu(); return [`process_cpu_seconds_total ${(c.user + c.system) / 1e6}`]; } });
  registry.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', { read: () => startSeconds });
  registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', { read: () => memoryUsage.rss() });
  registry.gauge('process_open_fds', 'Number of open file descriptors.', { read: openFds });
  registry.gauge('process_max_fds', 'Maximum number of open file descriptors.', { read: maxFds });
  registry.gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', { read: () => memoryUsage().heapTotal });
  registry.gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', { read: () => memoryUsage().heapUsed });
  registry.gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', { read: () => memoryUsage().external });
  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  registry.gauge('nodejs_version_info', 'Node.js version info.', { read: () => 1, labels: { version: process.version, major, minor, patch } });
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length - 1; // less the one readdir itself holds
  } catch {
    return NaN;
  }
}

function maxFds(): number {
  try {
    return Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}
