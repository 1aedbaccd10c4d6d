// Whom verify and query trust: one public key (--key), a Cloud KMS key version (--kms), or a
// keyless signer identity (--certificate-identity[-regexp] + --certificate-oidc-issuer,
// checked against --trusted-root). Exactly one of them, chosen here and nowhere else.
import { createSignatureVerifier, type KeyLogTrust, type SignatureVerifier, type TrustConfig } from '../verify/index.ts';
import { CI_IDENTITY_FLAGS, CI_IDENTITY_HELP, ciIdentityFromFlags } from './ci-identity-flags.ts';
import { InputError, UsageError, hasCode } from './errors.ts';
import type { FlagSpecs, ParsedFlags } from './flags.ts';
import type { CliIo } from './io.ts';
import { readUserFile } from './local-files.ts';
import { kmsKeyFromFlags } from './kms-flags.ts';

export const TRUST_FLAGS: FlagSpecs = {
  key: { type: 'string' },
  kms: { type: 'string' },
  'kms-endpoint': { type: 'string' },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'trusted-root': { type: 'string' },
  'insecure-ignore-tlog': { type: 'boolean' },
  ...CI_IDENTITY_FLAGS,
};

export const TRUST_HELP = `Whom to trust (exactly one):
  --key FILE                    public key (PEM, ECDSA P-256), e.g. cosign.pub (never the private key);
                                a value beginning with -----BEGIN is the PEM itself
  --kms gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N
                                the public key of a Cloud KMS key version
  --kms-endpoint URL            Cloud KMS API endpoint (tests, private endpoints)
  --certificate-identity ID     keyless: the signer's identity (certificate SAN), exact match;
                                from GitHub Actions, the workflow that signed, e.g. https://github.com/
                                slsa-ml/slsa-ml/.github/workflows/provenance.yml@refs/tags/v1
  --certificate-identity-regexp RE
                                keyless: a regular expression the identity must match
  --certificate-oidc-issuer URL keyless: the OIDC issuer of the identity (required with keyless);
                                https://token.actions.githubusercontent.com for GitHub Actions
${CI_IDENTITY_HELP}
  --trusted-root FILE           Sigstore trusted_root.json; a value beginning with { is the JSON itself.
                                keyless: required (Fulcio CAs, Rekor and CT log keys). With --key or
                                --kms: the transparency logs it names (tlogs) must hold each signature
                                (checkpoint and inclusion proof in the bundle); none named: none required
  --insecure-ignore-tlog        with --key or --kms: accept a signature without a log entry, as cosign's
                                flag of the same name (entries are then not checked)`;

const KEYLESS = ['certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'gitlab-project', 'gitlab-ref', 'gitlab-host', 'cloud-build-service-account'];

export async function trustFromFlags(flags: ParsedFlags, io: CliIo): Promise<TrustConfig> {
  const key = flags.strings.get('key');
  const kms = flags.strings.get('kms');
  const keyless = KEYLESS.some((f) => flags.strings.has(f));
  const chosen = [key && '--key', kms && '--kms', keyless && '--certificate-identity'].filter(Boolean);
  if (chosen.length === 0) {
    throw new UsageError('say whom to trust: --key PUBLIC_KEY_FILE, --kms gcpkms://…, or --certificate-identity with --certificate-oidc-issuer');
  }
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} cannot be used together: choose one way to trust a signer`);
  refuseStrayFlags(flags, kms !== undefined, keyless);
  if (key !== undefined) return { kind: 'key', publicKeyPem: await fileOrInline('--key', key, io, (v) => v.startsWith('-----BEGIN')), ...(await keyLogTrust(flags, io)) };
  if (kms !== undefined) return { ...kmsKeyFromFlags(kms, flags.strings.get('kms-endpoint')), ...(await keyLogTrust(flags, io)) };
  if (flags.booleans.has('insecure-ignore-tlog')) throw new UsageError('--insecure-ignore-tlog applies only with --key or --kms: a keyless signature is always checked against its log');
  return identityTrust(flags, io);
}

function refuseStrayFlags(flags: ParsedFlags, kms: boolean, keyless: boolean): void {
  if (flags.strings.has('kms-endpoint') && !kms) throw new UsageError('--kms-endpoint applies only with --kms');
  if (!keyless && flags.booleans.has('gitlab-allow-merge-request-pipelines')) {
    throw new UsageError('--gitlab-allow-merge-request-pipelines applies only to keyless verification: a key-signed statement has no certificate');
  }
}

/** The verifier made once per command and reused for every provenance file. */
export async function verifierFromFlags(flags: ParsedFlags, io: CliIo): Promise<SignatureVerifier> {
  const trust = await trustFromFlags(flags, io);
  try {
    return await createSignatureVerifier(trust);
  } catch (err) {
    const code = hasCode(err) ? err.code : '';
    const message = (err as Error).message;
    if (code === 'KEY_INVALID' || code === 'KEY_IS_PRIVATE') throw new UsageError(`--key ${named(flags.strings.get('key'))}: ${message}`, { cause: err });
    if (code === 'TRUSTED_ROOT_INVALID') throw new UsageError(`--trusted-root ${flags.strings.get('trusted-root') ?? ''}: ${message}`, { cause: err });
    if (code === 'KEY_UNAVAILABLE') throw new InputError(code, `--kms: ${message}`, { cause: err });
    throw err;
  }
}

async function keyLogTrust(flags: ParsedFlags, io: CliIo): Promise<KeyLogTrust> {
  const rootPath = flags.strings.get('trusted-root');
  const trustedRoot = rootPath === undefined ? undefined : await fileOrInline('--trusted-root', rootPath, io, (v) => v.startsWith('{'));
  return { ...(trustedRoot === undefined ? {} : { trustedRoot }), ignoreTlog: flags.booleans.has('insecure-ignore-tlog') };
}

async function identityTrust(flags: ParsedFlags, io: CliIo): Promise<TrustConfig> {
  const shorthand = ciIdentityFromFlags(flags);
  const mergeRequests = flags.booleans.has('gitlab-allow-merge-request-pipelines') ? { allowMergeRequestPipelines: true } : {};
  if (shorthand !== undefined) return { kind: 'identity', ...shorthand, ...mergeRequests, trustedRoot: await requiredTrustedRoot(flags, io) };
  const exact = flags.strings.get('certificate-identity');
  const pattern = flags.strings.get('certificate-identity-regexp');
  const issuer = flags.strings.get('certificate-oidc-issuer');
  if (exact !== undefined && pattern !== undefined) {
    throw new UsageError('--certificate-identity and --certificate-identity-regexp cannot be used together');
  }
  if (exact === undefined && pattern === undefined) throw new UsageError('keyless verification needs --certificate-identity or --certificate-identity-regexp');
  if (issuer === undefined) throw new UsageError('keyless verification needs --certificate-oidc-issuer (e.g. https://accounts.google.com, https://token.actions.githubusercontent.com)');
  const trustedRoot = await requiredTrustedRoot(flags, io);
  return { kind: 'identity', certificateIdentity: exact ?? compile(pattern ?? ''), oidcIssuer: issuer, ...mergeRequests, trustedRoot };
}

async function requiredTrustedRoot(flags: ParsedFlags, io: CliIo): Promise<string> {
  const rootPath = flags.strings.get('trusted-root');
  if (rootPath === undefined) {
    throw new UsageError('keyless verification needs --trusted-root FILE (Sigstore trusted_root.json); slsa-ml never fetches trust roots over the network');
  }
  return fileOrInline('--trusted-root', rootPath, io, (v) => v.startsWith('{'));
}

function compile(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new UsageError(`--certificate-identity-regexp: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A file's contents, or the value itself when it already is the contents (a PEM block, a JSON
 * document): what a cluster-scoped object such as a KServe ClusterStorageContainer can carry in a
 * literal environment variable, where a mounted file would come from the namespace of whoever
 * deploys the model. No path begins with `-----BEGIN` or `{`.
 */
async function fileOrInline(flag: string, value: string, io: CliIo, inline: (value: string) => boolean): Promise<string> {
  const trimmed = value.trimStart();
  if (inline(trimmed)) return trimmed;
  return (await readUserFile(flag, value, io)).toString('utf8');
}

/** How an error names a --key value: a PEM given inline is not echoed (it is long, and one line of it says nothing). */
function named(value: string | undefined): string {
  return value?.trimStart().startsWith('-----BEGIN') === true ? '(inline PEM)' : (value ?? '');
}
