// Where hack/install-tools.sh put each pinned component. One place reads versions.env so the
// shell builder and the TypeScript environment can never disagree on a path.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const hackDir = join(import.meta.dirname, '..');

export interface ToolPaths {
  readonly kubeApiserver: string;
  readonly kubeScheduler: string;
  readonly kubeControllerManager: string;
  readonly kubectl: string;
  readonly etcd: string;
  readonly fakeGcsServer: string;
  readonly cosign: string;
  readonly actionlint: string;
  readonly tektonCrdDir: string;
  /** Tekton's release RBAC and ConfigMaps: pipelines/ (config/*.yaml) and resolvers/. */
  readonly tektonConfigDir: string;
  readonly tektonController: string;
  readonly tektonResolvers: string;
  /** KServe's CRDs (config/crd/full of the KServe module). */
  readonly kserveCrdDir: string;
  /** What a KServe release installs beside its controller (ConfigMap, RBAC, webhooks, TorchServe runtime). */
  readonly kserveConfigDir: string;
  /** KServe's controller manager (cmd/manager). */
  readonly kserveController: string;
  readonly kwok: string;
  /** rekor-tiles' server (Rekor v2), POSIX storage. */
  readonly rekorServer: string;
  /** hack/tools/sigstore-go-verify: sigstore-go's check of a key-signed bundle and its log entry. */
  readonly sigstoreGoVerify: string;
  /** python3 of the virtualenv holding securesystemslib and model-signing. */
  readonly verifierPython: string;
  readonly versions: Readonly<Record<string, string>>;
}

export function cacheDir(): string {
  return process.env.SLSA_ML_CACHE ?? join(homedir(), '.cache', 'slsa-ml');
}

export function pinnedVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const line of readFileSync(join(hackDir, 'versions.env'), 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
    if (match?.[1] && match[2]) versions[match[1]] = match[2];
  }
  return versions;
}

export function toolPaths(): ToolPaths {
  const v = pinnedVersions();
  const cache = cacheDir();
  const requirements = readFileSync(join(hackDir, 'requirements-verifiers.txt'));
  const venv = join(cache, `venv-verifiers-${createHash('sha256').update(requirements).digest('hex').slice(0, 12)}`);
  return {
    kubeApiserver: join(cache, 'bin', `kube-apiserver-${v.KUBE_VERSION}`),
    kubeScheduler: join(cache, 'bin', `kube-scheduler-${v.KUBE_VERSION}`),
    kubeControllerManager: join(cache, 'bin', `kube-controller-manager-${v.KUBE_VERSION}`),
    kubectl: join(cache, 'bin', `kubectl-${v.KUBE_VERSION}`),
    etcd: join(cache, 'bin', `etcd-${v.ETCD_VERSION}`),
    fakeGcsServer: join(cache, 'bin', `fake-gcs-server-${v.FAKE_GCS_SERVER_VERSION}`),
    cosign: join(cache, 'bin', `cosign-${v.COSIGN_VERSION}`),
    actionlint: join(cache, 'bin', `actionlint-${v.ACTIONLINT_VERSION}`),
    tektonCrdDir: join(cache, `tekton-pipeline-${v.TEKTON_PIPELINE_VERSION}`),
    tektonConfigDir: join(cache, `tekton-config-${v.TEKTON_PIPELINE_VERSION}`),
    tektonController: join(cache, 'bin', `tekton-controller-${v.TEKTON_PIPELINE_VERSION}`),
    tektonResolvers: join(cache, 'bin', `tekton-resolvers-${v.TEKTON_PIPELINE_VERSION}`),
    kserveCrdDir: join(cache, `kserve-crds-${v.KSERVE_VERSION}`),
    kserveConfigDir: join(cache, `kserve-config-${v.KSERVE_VERSION}`),
    kserveController: join(cache, 'bin', `kserve-controller-${v.KSERVE_VERSION}`),
    kwok: join(cache, 'bin', `kwok-${v.KWOK_VERSION}`),
    rekorServer: join(cache, 'bin', `rekor-server-${v.REKOR_TILES_VERSION}`),
    sigstoreGoVerify: join(cache, 'bin', `sigstore-go-verify-${v.SIGSTORE_GO_VERSION}`),
    verifierPython: join(venv, 'bin', 'python3'),
    versions: v,
  };
}

/** Throws a message that says how to provision a missing component, instead of skipping. */
export function requireTool(path: string, item: string): string {
  if (!existsSync(path)) {
    throw new Error(`${item} is not provisioned at ${path}: run \`bash hack/install-tools.sh ${item}\``);
  }
  return path;
}
