// Every default in one place. They run the operator locally with no cloud at all: models and
// provenance under a file:// directory, signing with a key file.
import type { OperatorConfig } from './types.ts';

export const DEFAULT_MODEL_ROOT = '/var/lib/slsa-ml/models';

export function defaultConfig(): OperatorConfig {
  return {
    namespaces: [],
    labelSelector: '',
    pipelineRuns: { enabled: true, deepInspection: true },
    allowedPrefixes: [`file://${DEFAULT_MODEL_ROOT}/`],
    storage: { gcs: {}, fileRoot: DEFAULT_MODEL_ROOT },
    signer: { kind: 'key', keyPath: '/var/run/slsa-ml/signing/cosign.key' },
    builderId: 'https://slsa-ml.dev/operator/local',
    attestFailedRuns: false,
    modelSignature: { enabled: true },
    verificationSummaries: { policyPaths: [], policyTexts: [] },
    clockSkewSeconds: 30,
    limits: { statementBytes: 4 * 1024 * 1024, modelFiles: 10_000, modelBytes: 1024 ** 4, pipelineTaskRuns: 500 },
    seal: {},
    installation: {},
    transparency: {},
    previousPublicKeyPaths: [],
    digestConcurrency: 4,
    retry: { initialDelayMs: 500, maxDelayMs: 30_000, budgetMs: 600_000 },
    workers: 4,
    finalizer: { enabled: true, maxHoldSeconds: 600 },
    leaderElection: {
      enabled: true,
      namespace: 'slsa-ml-system',
      leaseName: 'slsa-ml-operator',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
    },
    http: { port: 8080, host: '0.0.0.0' },
    logLevel: 'info',
    watch: { relistSeconds: 3600, stallSeconds: 120 },
    deadlines: { requestSeconds: 30, readStallSeconds: 60, reconcileSeconds: 1800 },
  };
}

/**
 * What a variant group (`signer`, `signer.token`) starts from when a configuration layer
 * switches it to `kind`: a kind switch replaces the whole group. Sigstore defaults to the
 * public-good instance and a GKE Workload Identity token from the metadata server.
 */
export function variantDefaults(group: string, kind: string): object | undefined {
  switch (`${group}:${kind}`) {
    case 'signer:key':
      return defaultConfig().signer;
    case 'signer:sigstore':
      return {
        kind,
        fulcioURL: 'https://fulcio.sigstore.dev',
        rekorURL: 'https://rekor.sigstore.dev',
        token: { kind: 'gce-metadata', audience: 'sigstore' },
      };
    case 'signer.token:gce-metadata':
      return { kind, audience: 'sigstore' };
    default:
      return { kind };
  }
}
