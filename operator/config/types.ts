// The operator's configuration as the rest of the process sees it: validated, complete,
// immutable by convention. Built only by loadConfig (defaults < file < environment).

export interface OperatorConfig {
  /** Namespaces whose TaskRuns are watched; empty = all namespaces. */
  namespaces: string[];
  /** Kubernetes label selector the watched TaskRuns and PipelineRuns must match ('' = all). */
  labelSelector: string;
  /**
   * PipelineRuns are watched and attested as one run (`enabled`): a TaskRun whose controlling
   * owner is a PipelineRun is then attested at the pipeline level only. `deepInspection`: models,
   * sources and inputs are read from every child TaskRun's results too, not only the PipelineRun's.
   */
  pipelineRuns: { enabled: boolean; deepInspection: boolean };
  /**
   * `gs://bucket/prefix/` or `file:///dir/`; an output outside all of them is refused. `{namespace}`
   * in a prefix stands for the TaskRun's namespace, so no namespace can claim another's models.
   */
  allowedPrefixes: string[];
  /** A model object may be at most this much older than its run's start (clock differences). */
  clockSkewSeconds: number;
  /** pipelineTaskRuns: most child runs of one PipelineRun that are read to attest it. */
  limits: { statementBytes: number; modelFiles: number; modelBytes: number; pipelineTaskRuns: number };
  /** The outcome seal's key file; unset: derived from the signing key (signer kind `key` only). */
  seal: { keyPath?: string };
  /**
   * The name this installation's seals carry, so that another installation meeting its outcomes can
   * say whose they are; unset: derived from builderId.
   */
  installation: { name?: string };
  /**
   * A Rekor v2 transparency log (rekor-tiles) that records every key or KMS signature before
   * anything is written; unset: none. Keyless signatures are always logged, in signer.rekorURL.
   */
  transparency: {
    /** A log URL, or `public`: the log Sigstore's signing configuration (from TUF) names as valid now. */
    url?: string;
    /** With `public`: another TUF repository (a private Sigstore deployment) and its initial root. */
    tufMirrorURL?: string;
    tufRootPath?: string;
  };
  /**
   * Public keys (PEM files) of this installation's earlier signing keys (or KMS key versions):
   * provenance and model signatures they made are recognised as this operator's own.
   */
  previousPublicKeyPaths: string[];
  storage: StorageSettings;
  signer: SignerSettings;
  /** SLSA `runDetails.builder.id`: identifies this operator installation. */
  builderId: string;
  attestFailedRuns: boolean;
  /** Also write `<model>.sig`, an OpenSSF model-signing v1.0 signature, next to every model. */
  modelSignature: { enabled: boolean };
  verificationSummaries: VerificationSummarySettings;
  digestConcurrency: number;
  retry: { initialDelayMs: number; maxDelayMs: number; budgetMs: number };
  workers: number;
  finalizer: { enabled: boolean; maxHoldSeconds: number };
  leaderElection: LeaderElectionSettings;
  http: { port: number; host: string };
  logLevel: string;
  watch: { relistSeconds: number; stallSeconds: number };
  /** Every outbound call, every model read and every reconcile attempt ends by these. */
  deadlines: { requestSeconds: number; readStallSeconds: number; reconcileSeconds: number };
}

/**
 * Signed SLSA verification summaries, one per policy file per model, written beside the provenance;
 * none while `policyPaths` is empty.
 */
export interface VerificationSummarySettings {
  /** Policy files (YAML, the keys of `slsa-ml verify --policy`). */
  policyPaths: string[];
  /** The files' contents as read when the configuration was loaded: a changed policy is a changed configuration. */
  policyTexts: string[];
  /** The summaries' `verifier.id`; unset: derived from builderId. */
  verifierId?: string;
}

export interface StorageSettings {
  gcs: { apiEndpoint?: string; userProject?: string };
  fileRoot?: string;
}

export type SignerSettings =
  | { kind: 'key'; keyPath: string; passwordPath?: string }
  | { kind: 'kms'; keyName: string; apiEndpoint?: string }
  | { kind: 'sigstore'; fulcioURL: string; rekorURL: string; token: TokenSource; verification?: KeylessVerification };

/** How the operator recognises its own keyless signatures (an earlier attempt's provenance). */
export interface KeylessVerification {
  /** The certificate SAN the operator's tokens get from Fulcio (e.g. its service account email). */
  identity: string;
  oidcIssuer: string;
  /** trusted_root.json with the Fulcio and Rekor keys. */
  trustedRootPath: string;
}

export type TokenSource = { kind: 'file'; path: string } | { kind: 'gce-metadata'; audience: string };

export interface LeaderElectionSettings {
  enabled: boolean;
  namespace: string;
  leaseName: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}
