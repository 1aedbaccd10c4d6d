// Side-by-side benchmark: the slsa-ml operator and Tekton Chains (built from its Go module by
// hack/build-chains.sh) against the same fresh local API server, on the same bursts, alternating,
// with fake GCS restarted empty before each. For each burst: attested/s, p50/p99 from the status
// write to the signed annotation seen on a watch, the controller's peak RSS during the burst, CPU
// (utime + stime) per attested run of the controller and of every process (kube-apiserver, etcd,
// fake-gcs-server, controller, driver), start-up CPU and idle RSS; then a steady load, and idle
// RSS with 2,000 existing TaskRuns. Prints tables with load averages. Figures are never asserted.
//   node bench/side-by-side.ts [--runs 500] [--rounds 3] [--only slsa-ml|chains|baseline] [--chains-storage tekton,gcs]
//        [--steady-rate 30] [--steady-seconds 60] [--idle-taskruns 2000] [--profile DIR] [--slsa-ml-baseline WORKTREE]
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBenchEnv, type BenchEnv } from './lib/bench-env.ts';
import { chains } from './lib/chains-controller.ts';
import type { ControllerSpec } from './lib/controller.ts';
import { imageNodeOptions, slsaMl } from './lib/slsa-ml-controller.ts';
import { burst, idleWith, prepareIdle, steady, type BurstResult, type IdleResult, type SteadyResult } from './lib/phases.ts';
import { burstTable, idleTable, steadyTable } from './lib/report.ts';
import { fromKubeconfigFile } from '../operator/kube/index.ts';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '500' },
  rounds: { type: 'string', default: '3' },
  only: { type: 'string' },
  workers: { type: 'string', default: '16' },
  threads: { type: 'string', default: '16' },
  qps: { type: 'string', default: '500' },
  burst: { type: 'string', default: '1000' },
  'chains-storage': { type: 'string', default: 'tekton' },
  'steady-rate': { type: 'string', default: '30' },
  'steady-seconds': { type: 'string', default: '60' },
  'idle-taskruns': { type: 'string', default: '2000' },
  'operator-node-options': { type: 'string' },
  /** Also run the operator of this checkout (a worktree of an earlier commit), for a before/after. */
  'slsa-ml-baseline': { type: 'string' },
  profile: { type: 'string' },
} });
const n = (key: keyof typeof values): number => Number(values[key]);

function controllers(): ControllerSpec[] {
  const list: ControllerSpec[] = [];
  // The operator runs with the image's NODE_OPTIONS unless told otherwise (--operator-node-options '' for none).
  const nodeOptions = values['operator-node-options'] ?? imageNodeOptions();
  if (values.only !== 'chains' && values.only !== 'baseline') list.push(slsaMl({ workers: n('workers'), nodeOptions }));
  if (values['slsa-ml-baseline']) list.push(slsaMl({ workers: n('workers'), nodeOptions, checkout: values['slsa-ml-baseline'] }));
  if (values.only === 'slsa-ml' || values.only === 'baseline') return list;
  for (const storage of values['chains-storage'].split(',') as Array<'tekton' | 'gcs'>) {
    try {
      list.push(chains({ storage, threads: n('threads'), qps: n('qps'), burst: n('burst') }));
    } catch (err) {
      console.error(`Tekton Chains is left out: ${(err as Error).message}`);
    }
  }
  return list;
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const specs = controllers();
console.error(`starting the environment (etcd, kube-apiserver, fake-gcs-server); load ${load()}`);
const env: BenchEnv = await startBenchEnv();
// Ctrl-C or a timeout still stops what the benchmark started (processes, network namespace).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void env.stop().finally(() => process.exit(130)));
const access = fromKubeconfigFile(env.kubeconfig, 'admin');
const loadBefore = load();
const bursts: BurstResult[] = [];
const steadies: SteadyResult[] = [];
const idles: IdleResult[] = [];
try {
  for (let round = 0; round < n('rounds'); round++) {
    // Alternating, and each round starts with the other one, so drift in the shared environment
    // (etcd history, the machine's other load) falls on both alike.
    const order = round % 2 === 0 ? specs : [...specs].reverse();
    for (const spec of order) {
      bursts.push(await burst(env, access, spec, { runs: n('runs'), round, ...(values.profile ? { profileDir: values.profile } : {}) }));
      await sleep(5000);
    }
  }
  if (n('steady-seconds') > 0) {
    for (const spec of specs) steadies.push(await steady(env, access, spec, { rate: n('steady-rate'), seconds: n('steady-seconds') }));
  }
  if (n('idle-taskruns') > 0) {
    const namespace = await prepareIdle(env, n('idle-taskruns'));
    for (const spec of specs) idles.push(await idleWith(env, spec, namespace, n('idle-taskruns')));
  }
} finally {
  await env.stop();
}

console.log(`# side by side: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, kube-apiserver ${env.kubeVersion}`);
console.log(`# ${n('runs')} finished TaskRuns released at once per burst, ${n('rounds')} rounds alternating; load average before ${loadBefore}, after ${load()}\n`);
console.log(burstTable(bursts, idles));
if (steadies.length) console.log(`\n${steadyTable(steadies)}`);
if (idles.length) console.log(`\n${idleTable(idles)}`);
console.log(`\n${JSON.stringify({ bursts, steadies, idles })}`);
