// The shape of the configuration tree: every key a file or the environment may set, and its
// type. Unknown keys are refused against it, and the environment overrides are derived from it
// (`signer.keyName` → `SLSA_ML_SIGNER_KEY_NAME`), so a new key needs one line here.

export type LeafType = 'string' | 'integer' | 'boolean' | 'list';
export interface SchemaGroup {
  readonly [key: string]: SchemaNode;
}
export type SchemaNode = LeafType | SchemaGroup;

/** A raw tree as read from one source; `null` clears an optional value set below it. */
export type RawValue = string | number | boolean | string[] | null | RawTree;
export interface RawTree {
  [key: string]: RawValue;
}

export const ENV_PREFIX = 'SLSA_ML_';

export const SCHEMA: SchemaGroup = {
  namespaces: 'list',
  labelSelector: 'string',
  pipelineRuns: { enabled: 'boolean', deepInspection: 'boolean' },
  allowedPrefixes: 'list',
  storage: { gcs: { apiEndpoint: 'string', userProject: 'string' }, fileRoot: 'string' },
  // A group with a `kind` key is a variant: which other keys apply depends on the kind.
  signer: {
    kind: 'string',
    keyPath: 'string',
    passwordPath: 'string',
    keyName: 'string',
    apiEndpoint: 'string',
    fulcioURL: 'string',
    rekorURL: 'string',
    token: { kind: 'string', path: 'string', audience: 'string' },
    identity: 'string',
    oidcIssuer: 'string',
    trustedRootPath: 'string',
  },
  builderId: 'string',
  attestFailedRuns: 'boolean',
  modelSignature: { enabled: 'boolean' },
  verificationSummaries: { policyPaths: 'list', verifierId: 'string' },
  clockSkewSeconds: 'integer',
  limits: { statementBytes: 'integer', modelFiles: 'integer', modelBytes: 'integer', pipelineTaskRuns: 'integer' },
  seal: { keyPath: 'string' },
  installation: { name: 'string' },
  transparency: { url: 'string', tufMirrorURL: 'string', tufRootPath: 'string' },
  previousPublicKeyPaths: 'list',
  digestConcurrency: 'integer',
  retry: { initialDelayMs: 'integer', maxDelayMs: 'integer', budgetMs: 'integer' },
  workers: 'integer',
  finalizer: { enabled: 'boolean', maxHoldSeconds: 'integer' },
  leaderElection: {
    enabled: 'boolean',
    namespace: 'string',
    leaseName: 'string',
    leaseDurationSeconds: 'integer',
    renewDeadlineSeconds: 'integer',
    retryPeriodSeconds: 'integer',
  },
  http: { port: 'integer', host: 'string' },
  logLevel: 'string',
  watch: { relistSeconds: 'integer', stallSeconds: 'integer' },
  deadlines: { requestSeconds: 'integer', readStallSeconds: 'integer', reconcileSeconds: 'integer' },
};

/**
 * Keys that were renamed because their meaning changed: refused by name (file and environment)
 * rather than ignored or carried over, with the reason.
 */
export const REMOVED_KEYS: Readonly<Record<string, string>> = {
  // It was inert ("Project for GCS requests"); carrying it over would bill every request to it.
  'storage.gcs.projectId': 'replaced by storage.gcs.userProject (the billing project, sent as userProject on every request); billing is only ever asked for by that name',
};

export interface Leaf {
  readonly path: readonly string[];
  readonly field: string;
  readonly type: LeafType;
  readonly envName: string;
}

export function schemaLeaves(node: SchemaGroup = SCHEMA, prefix: readonly string[] = []): Leaf[] {
  return Object.entries(node).flatMap(([key, child]) => {
    const path = [...prefix, key];
    if (typeof child !== 'string') return schemaLeaves(child, path);
    return [{ path, field: path.join('.'), type: child, envName: envName(path) }];
  });
}

/** `['signer', 'fulcioURL']` → `SLSA_ML_SIGNER_FULCIO_URL`. */
export function envName(path: readonly string[]): string {
  const snake = path.map((segment) =>
    segment
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
      .toUpperCase(),
  );
  return ENV_PREFIX + snake.join('_');
}

export function isVariant(group: SchemaGroup): boolean {
  return group.kind === 'string';
}

export function isTree(value: RawValue | undefined): value is RawTree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
