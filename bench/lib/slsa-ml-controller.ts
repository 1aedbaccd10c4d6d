// The slsa-ml operator as the benchmark runs it: the real process (`node operator/bin.ts operator`)
// under the operator's own ServiceAccount identity and manifests/base RBAC, with the production
// defaults (leader election through its Lease, finalizer, model signatures, info logs) and the
// image's NODE_OPTIONS, a local key, fake GCS, and `workers` reconciles at once.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../hack/env/ports.ts';
import { BUCKETS } from './bench-env.ts';
import { Child, type ControllerSpec, type RunningController } from './controller.ts';

const repo = join(import.meta.dirname, '..', '..');

/** What the image sets (Dockerfile `ENV NODE_OPTIONS=…`), so the benchmark runs what is shipped. */
export function imageNodeOptions(): string {
  return /^ENV NODE_OPTIONS=(.+)$/m.exec(readFileSync(join(repo, 'Dockerfile'), 'utf8'))?.[1]?.trim() ?? '';
}

/** `checkout`: run the operator of another checkout of this repository (e.g. an earlier commit's worktree). */
export function slsaMl(options: { workers: number; nodeOptions?: string; checkout?: string }): ControllerSpec {
  const root = options.checkout ?? repo;
  return {
    name: options.checkout ? `slsa-ml@${options.checkout}` : 'slsa-ml',
    configuration: `${options.workers} workers, local key, GCS (measures every model)${options.nodeOptions ? `, NODE_OPTIONS=${options.nodeOptions}` : ''}`,
    annotation: 'slsa-ml.dev/signed',
    signedValue: 'true',
    async start(env, start): Promise<RunningController> {
      const dir = mkdtempSync(join(tmpdir(), 'slsa-ml-bench-operator-'));
      const keyPath = join(dir, 'cosign.key');
      writeFileSync(keyPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const port = await freePort();
      const configPath = join(dir, 'config.yaml');
      writeFileSync(configPath, stringify({
        http: { port, host: '127.0.0.1' },
        allowedPrefixes: BUCKETS.map((b) => `gs://${b}/models/`),
        storage: { gcs: { apiEndpoint: env.gcsEndpoint() } },
        signer: { kind: 'key', keyPath },
        builderId: 'https://slsa-ml.dev/operator/bench',
        workers: options.workers,
      }));
      const nodeOptions = [options.nodeOptions, start.profileDir ? `--cpu-prof --cpu-prof-dir=${start.profileDir} --cpu-prof-name=slsa-ml-${start.label}.cpuprofile` : undefined].filter(Boolean).join(' ');
      const child = new Child(process.execPath, [join(root, 'operator', 'bin.ts'), 'operator', '--config', configPath], {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        KUBECONFIG: env.kubeconfigFor('operator'),
        POD_NAME: `slsa-ml-bench-${start.label}`,
        ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
      });
      return {
        pid: child.pid,
        // Leading and its watch has listed the TaskRuns (it lists PipelineRuns too, each with a line of its own).
        ready: (timeoutMs = 60_000) => child.waitFor('slsa-ml ready', () => /"message":"listed"[^\n]*"path":"[^"]*\/taskruns"|"path":"[^"]*\/taskruns"[^\n]*"message":"listed"/.test(child.output()), timeoutMs),
        output: () => child.output(),
        stop: () => child.stop('SIGTERM'),
      };
    },
  };
}
