// The merged raw tree → OperatorConfig: every value checked, then the rules that tie values
// together (renew deadline below lease duration, file prefixes inside the file root …).
import { buildSigner } from './build-signer.ts';
import { absolutePath, absoluteUri, dnsLabel, dnsSubdomain, endpoint, httpUrl, logLevel, nonEmpty, storagePrefix } from './checks.ts';
import type { Fields } from './fields.ts';
import { labelSelector } from './label-selector.ts';
import { buildVerificationSummaries } from './summaries.ts';
import type { LeaderElectionSettings, OperatorConfig, StorageSettings } from './types.ts';

const MAX_PARALLEL = 256;
const DAY_MS = 86_400_000;

export function buildConfig(f: Fields): OperatorConfig {
  const config: OperatorConfig = {
    namespaces: f.list('namespaces', dnsLabel),
    labelSelector: f.optionalString('labelSelector', labelSelector) ?? '',
    pipelineRuns: { enabled: f.boolean('pipelineRuns.enabled'), deepInspection: f.boolean('pipelineRuns.deepInspection') },
    allowedPrefixes: f.list('allowedPrefixes', storagePrefix),
    storage: buildStorage(f),
    signer: buildSigner(f),
    builderId: f.string('builderId', absoluteUri),
    attestFailedRuns: f.boolean('attestFailedRuns'),
    modelSignature: { enabled: f.boolean('modelSignature.enabled') },
    verificationSummaries: buildVerificationSummaries(f),
    clockSkewSeconds: f.integer('clockSkewSeconds', 0, 3600),
    limits: {
      statementBytes: f.integer('limits.statementBytes', 1024, 64 * 1024 * 1024),
      modelFiles: f.integer('limits.modelFiles', 1),
      modelBytes: f.integer('limits.modelBytes', 1),
      pipelineTaskRuns: f.integer('limits.pipelineTaskRuns', 1, 100_000),
    },
    seal: buildSeal(f),
    installation: buildInstallation(f),
    transparency: buildTransparency(f),
    previousPublicKeyPaths: f.list('previousPublicKeyPaths', absolutePath),
    digestConcurrency: f.integer('digestConcurrency', 1, MAX_PARALLEL),
    retry: {
      initialDelayMs: f.integer('retry.initialDelayMs', 1, DAY_MS),
      maxDelayMs: f.integer('retry.maxDelayMs', 1, DAY_MS),
      budgetMs: f.integer('retry.budgetMs', 1, 7 * DAY_MS),
    },
    workers: f.integer('workers', 1, MAX_PARALLEL),
    finalizer: { enabled: f.boolean('finalizer.enabled'), maxHoldSeconds: f.integer('finalizer.maxHoldSeconds', 1) },
    leaderElection: buildLeaderElection(f),
    http: { port: f.integer('http.port', 1, 65_535), host: f.string('http.host', nonEmpty) },
    logLevel: f.string('logLevel', logLevel),
    watch: { relistSeconds: f.integer('watch.relistSeconds', 0), stallSeconds: f.integer('watch.stallSeconds', 1) },
    deadlines: {
      requestSeconds: f.integer('deadlines.requestSeconds', 1, 3600),
      readStallSeconds: f.integer('deadlines.readStallSeconds', 1, 3600),
      reconcileSeconds: f.integer('deadlines.reconcileSeconds', 1, 7 * 86_400),
    },
  };
  checkRelations(f, config);
  return config;
}

function buildStorage(f: Fields): StorageSettings {
  const apiEndpoint = f.optionalString('storage.gcs.apiEndpoint', endpoint);
  const userProject = f.optionalString('storage.gcs.userProject', nonEmpty);
  const fileRoot = f.optionalString('storage.fileRoot', absolutePath);
  return {
    gcs: { ...(apiEndpoint === undefined ? {} : { apiEndpoint }), ...(userProject === undefined ? {} : { userProject }) },
    ...(fileRoot === undefined ? {} : { fileRoot }),
  };
}

function buildSeal(f: Fields): OperatorConfig['seal'] {
  const keyPath = f.optionalString('seal.keyPath', absolutePath);
  return keyPath === undefined ? {} : { keyPath };
}

function buildInstallation(f: Fields): OperatorConfig['installation'] {
  const name = f.optionalString('installation.name', dnsLabel);
  return name === undefined ? {} : { name };
}

function buildTransparency(f: Fields): OperatorConfig['transparency'] {
  const url = f.optionalString('transparency.url', (v) => (v === 'public' ? undefined : httpUrl(v)));
  if (url !== undefined && f.string('signer.kind', nonEmpty) === 'sigstore') {
    f.fail('transparency.url', 'applies to signer kinds key and kms: a keyless signature is always recorded, in signer.rekorURL');
  }
  const tufMirrorURL = f.optionalString('transparency.tufMirrorURL', httpUrl);
  const tufRootPath = f.optionalString('transparency.tufRootPath', absolutePath);
  if ((tufMirrorURL !== undefined || tufRootPath !== undefined) && url !== 'public') {
    f.fail(tufMirrorURL !== undefined ? 'transparency.tufMirrorURL' : 'transparency.tufRootPath', 'applies only with transparency.url: public');
  }
  return { ...(url === undefined ? {} : { url }), ...(tufMirrorURL === undefined ? {} : { tufMirrorURL }), ...(tufRootPath === undefined ? {} : { tufRootPath }) };
}

function buildLeaderElection(f: Fields): LeaderElectionSettings {
  return {
    enabled: f.boolean('leaderElection.enabled'),
    namespace: f.string('leaderElection.namespace', dnsLabel),
    leaseName: f.string('leaderElection.leaseName', dnsSubdomain),
    leaseDurationSeconds: f.integer('leaderElection.leaseDurationSeconds', 1),
    renewDeadlineSeconds: f.integer('leaderElection.renewDeadlineSeconds', 1),
    retryPeriodSeconds: f.integer('leaderElection.retryPeriodSeconds', 1),
  };
}

function checkRelations(f: Fields, c: OperatorConfig): void {
  if (c.allowedPrefixes.length === 0) f.fail('allowedPrefixes', 'must list at least one prefix (nothing could be attested)');
  if (c.retry.maxDelayMs < c.retry.initialDelayMs) f.fail('retry.maxDelayMs', 'must not be below retry.initialDelayMs');
  if (c.retry.budgetMs < c.retry.initialDelayMs) f.fail('retry.budgetMs', 'must not be below retry.initialDelayMs');
  if (c.deadlines.reconcileSeconds <= c.deadlines.requestSeconds) f.fail('deadlines.reconcileSeconds', 'must be above deadlines.requestSeconds');
  const le = c.leaderElection;
  // As client-go: a leader must notice a failed renew before a standby may take over.
  if (le.renewDeadlineSeconds >= le.leaseDurationSeconds) {
    f.fail('leaderElection.renewDeadlineSeconds', 'must be below leaderElection.leaseDurationSeconds');
  }
  if (le.renewDeadlineSeconds <= 1.2 * le.retryPeriodSeconds) {
    f.fail('leaderElection.renewDeadlineSeconds', 'must be above 1.2 × leaderElection.retryPeriodSeconds');
  }
  const root = c.storage.fileRoot;
  if (root === undefined) return;
  const rootPrefix = `file://${root.endsWith('/') ? root : `${root}/`}`;
  for (const prefix of c.allowedPrefixes) {
    if (prefix.startsWith('file://') && !prefix.startsWith(rootPrefix)) {
      f.fail('allowedPrefixes', `${prefix} lies outside storage.fileRoot ${root}, so it could never be read`);
    }
  }
}
