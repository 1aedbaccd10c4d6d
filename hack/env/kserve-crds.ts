// Installs KServe's CRDs (config/crd/full of the KServe module: InferenceService,
// ClusterStorageContainer, ServingRuntime, ...), so the serving gate's manifests (manifests/serving)
// meet the schemas a cluster with KServe has. Unchanged: each has one version and no conversion
// webhook. No KServe controller or webhook runs here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { applyCrd, waitEstablished } from './crds.ts';

/** controller-gen names each file `<group>_<plural>.yaml`; the API server refuses a body whose name differs. */
const CRD_FILE = /^(serving\.kserve\.io)_([a-z0-9]+)\.yaml$/;

export async function installKserveCrds(kc: KubeConfig, dir: string): Promise<string[]> {
  const files = readdirSync(dir).filter((f) => CRD_FILE.test(f)).sort();
  if (files.length === 0) throw new Error(`no KServe CRD (serving.kserve.io_*.yaml) in ${dir}: run \`bash hack/install-tools.sh kserve\``);
  const names = files.map((f) => f.replace(CRD_FILE, '$2.$1'));
  // The InferenceService CRD alone is 1 MB of YAML: sent as it is, the API server parses it.
  await Promise.all(files.map((f, i) => applyCrd(kc, names[i] ?? '', readFileSync(join(dir, f), 'utf8'))));
  await waitEstablished(kc, names);
  return names;
}
