// The operator's configuration as the rest of the process sees it: validated, complete,
// immutable by convention. Built only by loadConfig (defaults < file < environment).

export interface OperatorConfig {
  /** Namespaces whose TaskRuns are watched; empty = all namespaces. */
  namespaces: string[];
  /** Kubernetes label selector the watched TaskRuns must match ('' = all). */
  labelSelector: string;
  /** `gs://bucket/prefix/` or `file:///dir/`; an output outside all of them is refused. */
  allowedPrefixes: string[];
  storage: StorageSettings;
  signer: SignerSettings;
  /** SLSA `runDetails.builder.id`: identifies this operator installation. */
  builderId: string;
  attestFailedRuns: boolean;
  digestConcurrency: number;
  retry: { initialDelayMs: number; maxDelayMs: number; budgetMs: number };
  workers: number;
  finalizer: { enabled: boolean; maxHoldSeconds: number };
  leaderElection: LeaderElectionSettings;
  http: { port: number; host: string };
  logLevel: string;
  watch: { relistSeconds: number; stallSeconds: number };
}

export interface StorageSettings {
  gcs: { apiEndpoint?: string; projectId?: string };
  fileRoot?: string;
}

export type SignerSettings =
  | { kind: 'key'; keyPath: string }
  | { kind: 'kms'; keyName: string; apiEndpoint?: string }
  | { kind: 'sigstore'; fulcioURL: string; rekorURL: string; token: TokenSource };

export type TokenSource = { kind: 'file'; path: string } | { kind: 'gce-metadata'; audience: string };

export interface LeaderElectionSettings {
  enabled: boolean;
  namespace: string;
  leaseName: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}
