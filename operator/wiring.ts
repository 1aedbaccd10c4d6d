// The one place that turns validated configuration into implementations: which Storage, which
// Signer, and the settings each reconcile gets as a snapshot.
import { readFileSync } from 'node:fs';
import { createSigner, tokenFromFile, tokenFromGceMetadata, type Signer } from '../src/signing/index.ts';
import { createStorage, type Storage } from '../src/storage/index.ts';
import type { OperatorConfig, SignerSettings } from './config/index.ts';
import type { ReconcileSettings } from './reconcile/index.ts';
import { OPERATOR_VERSION } from './version.ts';

export function buildStorage(config: OperatorConfig): Storage {
  return createStorage({ gcs: config.storage.gcs, ...(config.storage.fileRoot ? { fileRoot: config.storage.fileRoot } : {}) });
}

export async function buildSigner(settings: SignerSettings): Promise<Signer> {
  switch (settings.kind) {
    case 'key':
      // Read once at start (and on config reload); the key never reaches logs or the training pod.
      return createSigner({ kind: 'key', keyPem: readFileSync(settings.keyPath, 'utf8') });
    case 'kms':
      return createSigner({ kind: 'kms', keyName: settings.keyName, ...(settings.apiEndpoint ? { apiEndpoint: settings.apiEndpoint } : {}) });
    case 'sigstore': {
      const token = settings.token;
      return createSigner({
        kind: 'sigstore',
        fulcioURL: settings.fulcioURL,
        rekorURL: settings.rekorURL,
        identityToken: token.kind === 'file' ? tokenFromFile(token.path) : tokenFromGceMetadata(token.audience),
      });
    }
  }
}

export function reconcileSettings(config: OperatorConfig): ReconcileSettings {
  return {
    allowedPrefixes: config.allowedPrefixes,
    digestConcurrency: config.digestConcurrency,
    attestFailedRuns: config.attestFailedRuns,
    useFinalizer: config.finalizer.enabled,
    maxHoldSeconds: config.finalizer.maxHoldSeconds,
    retryBudgetMs: config.retry.budgetMs,
    provenance: {
      builderId: config.builderId,
      builderVersion: { 'slsa-ml': OPERATOR_VERSION },
      // Settings that change what is attested are part of the provenance (internalParameters).
      operatorConfig: { allowedPrefixes: config.allowedPrefixes, attestFailedRuns: config.attestFailedRuns, signer: config.signer.kind },
    },
  };
}

/** The TaskRun collections to watch: all namespaces, or one per configured namespace. */
export function taskRunCollections(config: OperatorConfig): string[] {
  if (config.namespaces.length === 0) return ['/apis/tekton.dev/v1/taskruns'];
  return config.namespaces.map((ns) => `/apis/tekton.dev/v1/namespaces/${ns}/taskruns`);
}
