// The real CRDs of the two monitoring APIs the optional components target (manifests/components),
// from the Go modules that publish them: the Go module proxy is a package registry, as for Tekton's
// CRDs in hack/install-tools.sh. Each file is cached by module version under the slsa-ml cache, so
// only the first run on a machine downloads anything.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '../../hack/env/tools.ts';

const run = promisify(execFile);

export interface CrdSource {
  readonly module: string;
  readonly version: string;
  /** The CRD file inside the module. */
  readonly file: string;
  /** `<plural>.<group>`, for `kubectl wait crd/…`. */
  readonly name: string;
}

/** PodMonitoring (GKE Managed Service for Prometheus) and ServiceMonitor (Prometheus Operator). */
export const MONITORING_CRDS: readonly CrdSource[] = [
  {
    module: 'github.com/GoogleCloudPlatform/prometheus-engine',
    version: 'v0.17.2',
    file: 'charts/operator/crds/monitoring.googleapis.com_podmonitorings.yaml',
    name: 'podmonitorings.monitoring.googleapis.com',
  },
  {
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: 'v0.85.0',
    file: 'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml',
    name: 'servicemonitors.monitoring.coreos.com',
  },
];

/** The cached CRD file, downloaded with `go mod download` on first use. */
export async function crdFile(source: CrdSource): Promise<string> {
  const dir = join(cacheDir(), `crds-${basename(source.module).toLowerCase()}-${source.version}`);
  const target = join(dir, basename(source.file));
  if (existsSync(target)) return target;
  const moduleDir = await downloadModule(`${source.module}@${source.version}`);
  mkdirSync(dir, { recursive: true });
  // Copied then renamed, so a concurrent run never reads half a file.
  const partial = `${target}.${process.pid}.tmp`;
  copyFileSync(join(moduleDir, source.file), partial);
  renameSync(partial, target);
  return target;
}

async function downloadModule(moduleAtVersion: string): Promise<string> {
  // Outside any go.mod: a module query, not a dependency of a module here.
  const result = await run('go', ['mod', 'download', '-json', moduleAtVersion], { cwd: tmpdir(), maxBuffer: 1 << 20 })
    .catch((err: unknown) => {
      const e = err as { code?: string | number; stdout?: string; message: string };
      if (e.code === 'ENOENT') throw new Error(`Go is needed to fetch the ${moduleAtVersion} CRDs (see README, Prerequisites)`, { cause: err });
      return { stdout: e.stdout ?? '', message: e.message };
    });
  const info = JSON.parse(result.stdout || '{}') as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${moduleAtVersion}: ${info.Error ?? ('message' in result ? result.message : 'no module directory')}`);
  return info.Dir;
}
