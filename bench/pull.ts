// `slsa-ml pull` of a multi-GB directory model against a plain download of the same objects from
// the same server, and the operator's measurement against a plain read. Figures are printed,
// never asserted.
//   node bench/pull.ts [--shards 8] [--shard-mib 512] [--concurrency 8] [--operator-concurrency 4]
//        [--reps 3] [--only main,operator,sweep,slow] [--sweep-gib 1,2,4,8] [--slow-mibps 64]
//        [--dest-dir DIR] [--max-load 1] [--no-curl] [--profile DIR] [--baseline CHECKOUT]
// Objects are served by bench/lib/gcs-file-server.ts from files made once under $SLSA_ML_BENCH_DIR
// (default: the OS temp dir's slsa-ml-bench); every case runs in a process of its own:
//   main      plain download (node:http piped to files, no hashing, the same concurrency), curl
//             (reference), and `node operator/bin.ts pull` (download, hash, verify signed provenance)
//   operator  plain read-and-discard, our GCS client read-and-discard, and digestStorage without a
//             copy (the operator's measurement), at the operator's default concurrency (4)
//   sweep     plain download and pull at each total size, the same shard size
//   slow      main's model with one shard served at --slow-mibps: plain, pull, pull --concurrency 1
// --baseline: also another checkout's pull and digestStorage (e.g. a `git worktree` of an earlier
// commit), in the same rounds, for a before/after.
// Before each run: the destination emptied, `sync`, the model's files read (so they are served
// from the page cache), and a wait while the load average is above --max-load.
import { execFile } from 'node:child_process';
import { createReadStream, statfsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

import { startGcsFileServer, type RunningServer } from './lib/gcs-file-server.ts';
import { BUCKET, benchDir, ensureKey, ensureModel, ensureProvenance, objectRoot, type BenchModel } from './lib/pull-fixtures.ts';
import { measureChild, median, waitForQuiet, type ChildRun, type Sample } from './lib/pull-measure.ts';

const exec = promisify(execFile);
const MiB = 1 << 20;
const GiB = 1 << 30;
const repo = join(import.meta.dirname, '..');

const { values } = parseArgs({
  options: {
    shards: { type: 'string', default: '8' },
    'shard-mib': { type: 'string', default: '512' },
    concurrency: { type: 'string', default: '8' },
    'operator-concurrency': { type: 'string', default: '4' },
    reps: { type: 'string', default: '3' },
    only: { type: 'string', default: 'main,operator,sweep,slow' },
    'sweep-gib': { type: 'string', default: '1,2,4,8' },
    'slow-mibps': { type: 'string', default: '64' },
    'dest-dir': { type: 'string' },
    'max-load': { type: 'string', default: '1' },
    'no-curl': { type: 'boolean', default: false },
    profile: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const shardBytes = Number(values['shard-mib']) * MiB;
const concurrency = Number(values.concurrency);
const operatorConcurrency = Number(values['operator-concurrency']);
const reps = Number(values.reps);
const only = new Set(values.only.split(','));
const sweepGib = values['sweep-gib'].split(',').filter(Boolean).map(Number);
const maxLoad = Number(values['max-load']);
const destRoot = values['dest-dir'] ?? join(benchDir(), 'dest');
const log = (line: string): void => { process.stderr.write(`# ${line}\n`); };

function free(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

async function machine(): Promise<string> {
  const { stdout: df } = await exec('df', ['-h', benchDir(), destRoot]);
  return [
    `${cpus().length} vCPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / GiB).toFixed(1)} GiB memory, node ${process.version}`,
    ...df.trim().split('\n').map((l) => `  ${l}`),
  ].join('\n');
}

/** Reads the model's files once, so the server sends them from the page cache. */
async function warm(model: BenchModel): Promise<void> {
  for (const o of model.objects) for await (const chunk of createReadStream(join(objectRoot(), BUCKET, o), { highWaterMark: 8 * MiB })) void chunk;
}

interface Case {
  readonly name: string;
  /** The command, given a fresh destination directory. */
  readonly command: (dest: string) => readonly string[];
  readonly check: (sample: Sample, dest: string) => Promise<void>;
}

function profiled(name: string): Record<string, string> {
  return values.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(values.profile, name.replace(/[^a-z0-9]+/gi, '-'))}` } : {};
}

const checkBytes = (model: BenchModel) => (sample: Sample): Promise<void> => {
  const out = JSON.parse(sample.stdout) as { bytes: number };
  if (out.bytes !== model.totalBytes) return Promise.reject(new Error(`${sample.case}: ${out.bytes} bytes, expected ${model.totalBytes}`));
  return Promise.resolve();
};

function plainWrite(model: BenchModel, endpoint: string, lanes: number): Case {
  return {
    name: `plain download, ${lanes} at once`,
    command: (dest) => [process.execPath, join(repo, 'bench/lib/pull-child.ts'), 'plain-write', '--endpoint', endpoint, '--uri', model.uri, '--dest', dest, '--concurrency', String(lanes)],
    check: checkBytes(model),
  };
}

function curl(model: BenchModel, endpoint: string, lanes: number): Case {
  return {
    name: `curl --parallel-max ${lanes} (reference)`,
    command: (dest) => ['sh', '-c', 'curl -sS --fail --parallel --parallel-max "$1" --config "$2"', 'curl', String(lanes), join(dest, '..', 'curl.config')],
    check: async (_s, dest) => {
      const { stdout } = await exec('du', ['-sb', dest]);
      const bytes = Number(stdout.split('\t')[0]);
      if (bytes < model.totalBytes) throw new Error(`curl: ${bytes} bytes, expected ${model.totalBytes}`);
    },
  };
}

async function writeCurlConfig(model: BenchModel, endpoint: string, dest: string): Promise<void> {
  const lines = model.objects.map((o) => `url = "${endpoint}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(o)}?alt=media"\noutput = "${join(dest, o.split('/').pop() ?? o)}"`);
  await writeFile(join(dest, '..', 'curl.config'), `${lines.join('\n')}\n`);
}

function pull(model: BenchModel, endpoint: string, lanes: number, key: string, checkout = repo): Case {
  return {
    name: `slsa-ml pull --concurrency ${lanes}${checkout === repo ? '' : ' (baseline)'}`,
    command: (dest) => [process.execPath, join(checkout, 'operator/bin.ts'), 'pull', model.uri, dest, '--key', key, '--gcs-endpoint', endpoint, '--concurrency', String(lanes)],
    check: (sample) => (sample.stdout.includes(`(${model.shards} files, ${model.totalBytes} bytes)`) ? Promise.resolve() : Promise.reject(new Error(`pull did not verify the model: ${sample.stdout}`))),
  };
}

function reader(mode: 'plain-discard' | 'client-discard' | 'digest', model: BenchModel, endpoint: string, lanes: number, checkout = repo): Case {
  const names = { 'plain-discard': 'plain read-and-discard', 'client-discard': 'our GCS client, read-and-discard', digest: 'digestStorage (operator)' };
  return {
    name: `${names[mode]}, ${lanes} at once${checkout === repo ? '' : ' (baseline)'}`,
    command: () => [process.execPath, join(repo, 'bench/lib/pull-child.ts'), mode, '--endpoint', endpoint, '--uri', model.uri, '--concurrency', String(lanes), '--src', checkout],
    check: checkBytes(model),
  };
}

/** Runs every case `reps` times, rotating which goes first, and returns every sample. */
async function measureCases(model: BenchModel, cases: readonly Case[], server: RunningServer): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + r) % cases.length] as Case;
      const dest = join(destRoot, 'model');
      await rm(destRoot, { recursive: true, force: true });
      await mkdir(dest, { recursive: true });
      if (c.name.startsWith('curl')) await writeCurlConfig(model, server.endpoint, dest);
      await exec('sync');
      await warm(model);
      await waitForQuiet(maxLoad, log);
      const child: ChildRun = { name: c.name, bytes: model.totalBytes, command: c.command(dest), env: profiled(c.name) };
      const sample = await measureChild(child, server.pid);
      await c.check(sample, dest);
      log(`${model.name} ${c.name}: ${sample.seconds.toFixed(2)} s, peak RSS ${sample.peakRssMB.toFixed(0)} MB, CPU ${sample.cpu.toFixed(2)} s, server ${sample.serverCpu.toFixed(2)} s, others ${sample.othersCpu.toFixed(2)} s, load ${sample.load.toFixed(2)}`);
      samples.push(sample);
      await rm(destRoot, { recursive: true, force: true });
    }
  }
  return samples;
}

/** A case's samples reduced to medians: a Sample without what is per run, named, with every run's load. */
interface Summary extends Omit<Sample, 'case' | 'load' | 'stdout'> {
  readonly name: string;
  readonly loads: readonly number[];
}

function summarise(samples: readonly Sample[]): Summary[] {
  const names = [...new Set(samples.map((s) => s.case))];
  return names.map((name) => {
    const of = samples.filter((s) => s.case === name);
    return {
      name, bytes: of[0]?.bytes ?? NaN, seconds: median(of.map((s) => s.seconds)), peakRssMB: Math.max(...of.map((s) => s.peakRssMB)),
      cpu: median(of.map((s) => s.cpu)), serverCpu: median(of.map((s) => s.serverCpu)), othersCpu: Math.max(...of.map((s) => s.othersCpu)), loads: of.map((s) => s.load),
    };
  });
}

const f = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');

function table(rows: readonly Summary[], baseline: string): string {
  const base = rows.find((r) => r.name === baseline);
  const lines = [
    '| case | median s | MB/s | vs plain | peak RSS MB (max) | CPU s | server CPU s | CPU floor s | others\' CPU s (max) | load at start |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const ratio = base ? `${f((base.seconds / r.seconds) * 100, 0)} %` : '—';
    // What the case's and the server's CPU alone would take with every core busy.
    const floor = (r.cpu + r.serverCpu) / cpus().length;
    lines.push(`| ${r.name} | ${f(r.seconds)} | ${f(r.bytes / r.seconds / 1e6, 0)} | ${ratio} | ${f(r.peakRssMB, 0)} | ${f(r.cpu)} | ${f(r.serverCpu)} | ${f(floor)} | ${f(r.othersCpu)} | ${r.loads.map((l) => f(l)).join(', ')} |`);
  }
  return lines.join('\n');
}

async function withServer<T>(slow: ReadonlyMap<string, number>, fn: (server: RunningServer) => Promise<T>): Promise<T> {
  const server = await startGcsFileServer(objectRoot(), { slow });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const key = await ensureKey();
  const mainModel = await ensureModel(Number(values.shards), shardBytes, log);
  const sweep: BenchModel[] = [];
  // One at a time: the models share their shard files.
  for (const g of only.has('sweep') ? sweepGib : []) sweep.push(await ensureModel(Math.max(1, Math.round((g * GiB) / shardBytes)), shardBytes, log));
  const largest = Math.max(mainModel.totalBytes, ...sweep.map((m) => m.totalBytes));
  await mkdir(destRoot, { recursive: true });
  if (largest > free(destRoot) / 2) throw new Error(`the largest model (${(largest / GiB).toFixed(1)} GiB) needs more than half of the ${(free(destRoot) / GiB).toFixed(1)} GiB free under ${destRoot}`);
  console.log(`# slsa-ml pull benchmark, ${new Date().toISOString()}\n${await machine()}\nobjects under ${objectRoot()}, downloads into ${destRoot}; ${reps} runs per case, medians`);
  const out: string[] = [];
  await withServer(new Map(), async (server) => {
    for (const m of [mainModel, ...sweep]) await ensureProvenance(m, key, server.endpoint, log);
    if (only.has('main')) out.push(await mainCase(mainModel, server, key.publicPath));
    if (only.has('operator')) out.push(await operatorCase(mainModel, server));
    if (sweep.length) out.push(await sweepTable(sweep, server, key.publicPath));
  });
  if (only.has('slow')) out.push(await slowCase(mainModel, key.publicPath));
  console.log(`\n${out.join('\n\n')}`);
  await readFile('/proc/loadavg', 'utf8').then((l) => console.log(`# load average at the end: ${l.trim()}`));
}

async function mainCase(model: BenchModel, server: RunningServer, key: string): Promise<string> {
  const cases = [plainWrite(model, server.endpoint, concurrency), pull(model, server.endpoint, concurrency, key)];
  if (!values['no-curl']) cases.splice(1, 0, curl(model, server.endpoint, concurrency));
  if (values.baseline) cases.push(pull(model, server.endpoint, concurrency, key, values.baseline));
  const rows = summarise(await measureCases(model, cases, server));
  const text = `## main: ${model.name} (${(model.totalBytes / GiB).toFixed(1)} GiB), --concurrency ${concurrency}\n\n${table(rows, cases[0]?.name ?? '')}`;
  log(text);
  return text;
}

async function operatorCase(model: BenchModel, server: RunningServer): Promise<string> {
  const cases = (['plain-discard', 'client-discard', 'digest'] as const).map((mode) => reader(mode, model, server.endpoint, operatorConcurrency));
  if (values.baseline) cases.push(reader('digest', model, server.endpoint, operatorConcurrency, values.baseline));
  const rows = summarise(await measureCases(model, cases, server));
  const text = `## operator: ${model.name}, concurrency ${operatorConcurrency}\n\n${table(rows, cases[0]?.name ?? '')}`;
  log(text);
  return text;
}

async function sweepTable(models: readonly BenchModel[], server: RunningServer, key: string): Promise<string> {
  const lines = [
    `## sweep: shards of ${f(shardBytes / MiB, 0)} MiB, --concurrency ${concurrency}`, '',
    '| GiB | shards | plain s | pull s | pull / plain | s per GiB: plain / pull | plain peak RSS MB | pull peak RSS MB | loads at start |',
    '|---:|---:|---:|---:|---:|---|---:|---:|---|',
  ];
  for (const m of models) {
    const [plain, pulled] = summarise(await measureCases(m, [plainWrite(m, server.endpoint, concurrency), pull(m, server.endpoint, concurrency, key)], server));
    if (!plain || !pulled) continue;
    lines.push(`| ${f(m.totalBytes / GiB, 1)} | ${m.shards} | ${f(plain.seconds)} | ${f(pulled.seconds)} | ${f((plain.seconds / pulled.seconds) * 100, 0)} % | ${f(plain.seconds / (m.totalBytes / GiB))} / ${f(pulled.seconds / (m.totalBytes / GiB))} | ${f(plain.peakRssMB, 0)} | ${f(pulled.peakRssMB, 0)} | ${[...plain.loads, ...pulled.loads].map((l) => f(l, 1)).join(' ')} |`);
    log(lines.at(-1) ?? '');
  }
  return lines.join('\n');
}

/** One shard throttled: parallel lanes finish the others while it trickles in. */
async function slowCase(model: BenchModel, key: string): Promise<string> {
  const rate = Number(values['slow-mibps']) * MiB;
  const slowObject = model.objects[0] as string;
  return withServer(new Map([[slowObject, rate]]), async (server) => {
    const cases = [plainWrite(model, server.endpoint, concurrency), pull(model, server.endpoint, concurrency, key), pull(model, server.endpoint, 1, key)];
    const rows = summarise(await measureCases(model, cases, server));
    const alone = model.shardBytes / rate;
    return `## one slow shard: ${slowObject.split('/').pop() ?? ''} at ${values['slow-mibps']} MiB/s (${f(alone, 1)} s alone), ${model.name}\n\n${table(rows, cases[0]?.name ?? '')}`;
  });
}

await main();
