// The one place that turns validated configuration into implementations: which Storage, which
// Signer (with the verifier that recognises its signatures and the outcome seal), and the
// settings each reconcile gets as a snapshot.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createSigner, fetchKmsPublicKey, parsePrivateKey, readSigningKey, tokenFromFile, tokenFromGceMetadata, type KeySignerConfig, type Signer } from '../src/signing/index.ts';
import { rekorV2FromTuf } from '../src/signing/transparency/public-log.ts';
import { createStorage, type Storage } from '../src/storage/index.ts';
import type { SignatureVerifier } from '../src/verify/index.ts';
import { anyOfVerifiers } from '../src/verify/any-verifier.ts';
import { publicKeyVerifierOnDemand } from '../src/verify/on-demand.ts';
import { SLSA_BUILD_LEVEL_3 } from '../src/vsa/constants.ts';
import { ConfigError, type OperatorConfig, type SignerSettings } from './config/index.ts';
import { collectionPath, type RunKind } from './kube/index.ts';
import { defaultInstallationName, OutcomeSeal, sealKeyFromSigningKey, sealKeysFromFile, type ReconcileSettings, type SigningSetup } from './reconcile/index.ts';
import type { SummaryPolicy, SummarySettings } from './reconcile/summaries.ts';
import { OPERATOR_VERSION } from './version.ts';

export function buildStorage(config: OperatorConfig): Storage {
  return createStorage({
    gcs: { ...(config.storage.gcs.apiEndpoint === undefined ? {} : { apiEndpoint: config.storage.gcs.apiEndpoint }), ...(config.storage.gcs.userProject === undefined ? {} : { userProject: config.storage.gcs.userProject }) },
    deadlines: { requestMs: config.deadlines.requestSeconds * 1000, readStallMs: config.deadlines.readStallSeconds * 1000 },
    ...(config.storage.fileRoot ? { fileRoot: config.storage.fileRoot } : {}),
  });
}

/**
 * Signer, own-signature verifier and seal, from one configuration; secrets are read once and never
 * logged. Every request the signer makes ends after `requestTimeoutMs`.
 */
export async function buildSigningSetup(config: Pick<OperatorConfig, 'signer' | 'seal' | 'deadlines' | 'installation' | 'builderId' | 'previousPublicKeyPaths' | 'transparency'>): Promise<SigningSetup> {
  const settings = config.signer;
  // Before any key is read or any KMS or Fulcio call is made: a missing seal key is a configuration
  // mistake, and is named as one (not as the credentials error the signer would meet first).
  if (settings.kind !== 'key' && config.seal.keyPath === undefined) throw missingSealKey();
  const requestTimeoutMs = config.deadlines.requestSeconds * 1000;
  // A PEM file, a cosign-encrypted key (COSIGN_PASSWORD or signer.passwordPath), or a Chains signing-secrets directory.
  const key = settings.kind === 'key'
    ? await readSigningKey({ path: settings.keyPath, ...(settings.passwordPath ? { passwordFile: settings.passwordPath } : {}), env: process.env })
    : undefined;
  const privateKey = key ? parsePrivateKey(key.keyPem, key.password) : undefined;
  const logURL = await transparencyLog(config.transparency, requestTimeoutMs);
  const signer = await buildSigner(settings, key, requestTimeoutMs, logURL);
  const previous = previousKeyVerifiers(config.previousPublicKeyPaths);
  const current = await buildOwnVerifier(settings, privateKey, requestTimeoutMs);
  const own = [...(current ? [current] : []), ...previous];
  const installation = config.installation.name ?? defaultInstallationName(config.builderId);
  return { signer, ownVerifier: own.length > 0 ? anyOfVerifiers(own) : undefined, seal: buildSeal(config.seal.keyPath, privateKey, installation), ...(logURL ? { logURL } : {}) };
}

async function buildSigner(settings: SignerSettings, key: KeySignerConfig | undefined, requestTimeoutMs: number, transparencyURL: string | undefined): Promise<Signer> {
  const transparency = transparencyURL === undefined ? {} : { transparency: { rekorV2URL: transparencyURL } };
  switch (settings.kind) {
    case 'key':
      return createSigner({ ...(key as KeySignerConfig), requestTimeoutMs, ...transparency });
    case 'kms':
      return createSigner({ kind: 'kms', keyName: settings.keyName, ...(settings.apiEndpoint ? { apiEndpoint: settings.apiEndpoint } : {}), requestTimeoutMs, ...transparency });
    case 'sigstore': {
      const token = settings.token;
      return createSigner({
        kind: 'sigstore',
        fulcioURL: settings.fulcioURL,
        rekorURL: settings.rekorURL,
        identityToken: token.kind === 'file' ? tokenFromFile(token.path) : tokenFromGceMetadata(token.audience),
        requestTimeoutMs,
      });
    }
  }
}

/**
 * The log to record in: the URL given, or for `public` the log Sigstore's signing configuration
 * names as valid now — read from TUF at start and on every reload (shards rotate about twice a year,
 * announced ahead in the signing configuration).
 */
async function transparencyLog(settings: OperatorConfig['transparency'], timeoutMs: number): Promise<string | undefined> {
  if (settings.url !== 'public') return settings.url;
  return rekorV2FromTuf({ ...(settings.tufMirrorURL ? { mirrorURL: settings.tufMirrorURL } : {}), ...(settings.tufRootPath ? { rootPath: settings.tufRootPath } : {}) }, timeoutMs);
}

/** What an earlier attempt of ours signed with: the only signatures an existing sibling may carry. */
async function buildOwnVerifier(settings: SignerSettings, privateKey: KeyObject | undefined, requestTimeoutMs: number): Promise<SignatureVerifier | undefined> {
  switch (settings.kind) {
    case 'key':
      return publicKeyVerifierOnDemand(pem(createPublicKey(privateKey as KeyObject)));
    case 'kms': {
      return publicKeyVerifierOnDemand(await fetchKmsPublicKey(settings.keyName, settings.apiEndpoint, { timeoutMs: requestTimeoutMs }));
    }
    case 'sigstore': {
      const v = settings.verification;
      if (!v) return undefined;
      const { createSignatureVerifier } = await import('../src/verify/index.ts');
      return createSignatureVerifier({ kind: 'identity', certificateIdentity: v.identity, oidcIssuer: v.oidcIssuer, trustedRoot: readFileSync(v.trustedRootPath, 'utf8') });
    }
  }
}

function pem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** The keys this installation signed with before (a rotation): what they signed is still ours. */
function previousKeyVerifiers(paths: readonly string[]): SignatureVerifier[] {
  return paths.map((path, i) => {
    let pemText: string;
    try {
      pemText = readFileSync(path, 'utf8');
      createPublicKey(pemText);
    } catch (err) {
      throw new ConfigError(`previousPublicKeyPaths[${i}]`, `cannot use ${path} as a public key: ${(err as Error).message}`);
    }
    if (/PRIVATE KEY/.test(pemText)) throw new ConfigError(`previousPublicKeyPaths[${i}]`, `${path} holds a private key; give the public key (cosign.pub) of the key signed with before`);
    return publicKeyVerifierOnDemand(pemText);
  });
}

function buildSeal(keyPath: string | undefined, privateKey: KeyObject | undefined, installation: string): OutcomeSeal {
  try {
    if (keyPath !== undefined) return new OutcomeSeal(sealKeysFromFile(readFileSync(keyPath, 'utf8')), installation);
  } catch (err) {
    throw new ConfigError('seal.keyPath', `cannot use ${keyPath} as the outcome seal key: ${(err as Error).message}`);
  }
  if (privateKey === undefined) throw missingSealKey();
  return new OutcomeSeal([sealKeyFromSigningKey(privateKey.export({ type: 'pkcs8', format: 'der' }))], installation);
}

function missingSealKey(): ConfigError {
  return new ConfigError('seal.keyPath', 'is required unless signer.kind is key: the operator-only key that seals recorded outcomes (a Secret file with a random line of at least 32 bytes)');
}

/**
 * The verification summaries' settings: each policy file parsed (its deny rules' semver and PEP 440
 * code loaded only when there is one), refused by path and key when it cannot be used.
 */
export async function buildSummarySettings(config: Pick<OperatorConfig, 'verificationSummaries' | 'builderId'>): Promise<SummarySettings> {
  const { policyPaths, policyTexts, verifierId } = config.verificationSummaries;
  const settings = { verifierId: verifierId ?? defaultVerifierId(config.builderId), verifierVersion: { 'slsa-ml': OPERATOR_VERSION }, levels: [SLSA_BUILD_LEVEL_3] };
  if (policyPaths.length === 0) return { ...settings, policies: [] };
  const { parsePolicy } = await import('../src/policy/policy-file.ts');
  const policies: SummaryPolicy[] = policyPaths.map((path, i) => {
    try {
      const policy = parsePolicy(policyTexts[i] ?? '', path);
      return { uri: policy.name ?? pathToFileURL(path).href, digest: policy.digest, rules: policy.rules };
    } catch (err) {
      throw new ConfigError('verificationSummaries.policyPaths', `item ${i}: ${(err as Error).message}`, { cause: err });
    }
  });
  const seen = new Map<string, string>();
  for (const [i, policy] of policies.entries()) {
    const twin = seen.get(policy.digest);
    // Equal rules would share one summary name: one of them is a mistake.
    if (twin !== undefined) throw new ConfigError('verificationSummaries.policyPaths', `item ${i} ${policyPaths[i] ?? ''} has the same rules (digest sha256:${policy.digest}) as ${twin}`);
    seen.set(policy.digest, policyPaths[i] ?? '');
  }
  return { ...settings, policies };
}

/**
 * The operator signs summaries in its verifier role, with the key it signs provenance with. Its
 * verifier.id names the same installation as builderId (so each installation has its own without
 * another setting), kept apart from it so that a builder id is never read as a verifier id.
 */
export function defaultVerifierId(builderId: string): string {
  return builderId.includes('#') ? `${builderId}/verifier` : `${builderId}#verifier`;
}

export function reconcileSettings(config: OperatorConfig, summaries: SummarySettings): ReconcileSettings {
  return {
    allowedPrefixes: config.allowedPrefixes,
    digestConcurrency: config.digestConcurrency,
    limits: { files: config.limits.modelFiles, bytes: config.limits.modelBytes },
    maxStatementBytes: config.limits.statementBytes,
    modelSignature: config.modelSignature.enabled,
    clockSkewSeconds: config.clockSkewSeconds,
    attestFailedRuns: config.attestFailedRuns,
    useFinalizer: config.finalizer.enabled,
    maxHoldSeconds: config.finalizer.maxHoldSeconds,
    retryBudgetMs: config.retry.budgetMs,
    attemptDeadlineMs: config.deadlines.reconcileSeconds * 1000,
    requestDeadlineMs: config.deadlines.requestSeconds * 1000,
    pipelineRuns: config.pipelineRuns.enabled,
    deepInspection: config.pipelineRuns.deepInspection,
    maxPipelineTaskRuns: config.limits.pipelineTaskRuns,
    labelSelector: config.labelSelector,
    summaries,
    provenance: {
      builderId: config.builderId,
      builderVersion: { 'slsa-ml': OPERATOR_VERSION },
      // Settings that change what is attested are part of the provenance (internalParameters).
      operatorConfig: { allowedPrefixes: config.allowedPrefixes, attestFailedRuns: config.attestFailedRuns, signer: config.signer.kind },
    },
  };
}

/**
 * The run collections to watch, in all namespaces or in each configured one: TaskRuns and
 * PipelineRuns (with pipelineRuns.enabled off, PipelineRuns only to release a finalizer of ours).
 */
export function runCollections(config: OperatorConfig): Array<{ kind: RunKind; path: string }> {
  const kinds: RunKind[] = ['TaskRun', 'PipelineRun'];
  const namespaces: Array<string | undefined> = config.namespaces.length === 0 ? [undefined] : config.namespaces;
  return kinds.flatMap((kind) => namespaces.map((ns) => ({ kind, path: collectionPath(kind, ns) })));
}
