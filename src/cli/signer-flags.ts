// How attest signs: a private key file (--key), a Cloud KMS key version (--kms), or keyless
// Sigstore (--fulcio-url, --rekor-url, --identity-token). The same signers the operator uses.
import { createSigner, readSigningKey, tokenFromFile, type Signer, type SignerConfig } from '../signing/index.ts';
import { requestTimeout } from '../signing/deadline.ts';
import { rekorV2FromTuf } from '../signing/transparency/public-log.ts';
import { UsageError } from './errors.ts';
import type { FlagSpecs, ParsedFlags } from './flags.ts';
import type { CliIo } from './io.ts';
import { readUserFile } from './local-files.ts';
import { checkEndpoint } from './storage-flags.ts';
import { kmsKeyFromFlags } from './kms-flags.ts';
import { resolve } from 'node:path';

export const SIGNER_FLAGS: FlagSpecs = {
  key: { type: 'string' },
  'key-password-file': { type: 'string' },
  kms: { type: 'string' },
  'kms-endpoint': { type: 'string' },
  'fulcio-url': { type: 'string' },
  'rekor-url': { type: 'string' },
  'identity-token': { type: 'string' },
  transparency: { type: 'string' },
  'tuf-mirror': { type: 'string' },
  'tuf-root': { type: 'string' },
};

export const SIGNER_HELP = `Signer (exactly one):
  --key FILE|DIR                ECDSA P-256 private key: cosign's encrypted cosign.key (from 'slsa-ml
                                keygen' or 'cosign generate-key-pair'; password from $COSIGN_PASSWORD
                                or --key-password-file), or PKCS#8 / SEC1 PEM; or a directory laid
                                out as Tekton Chains' signing-secrets (x509.pem, or cosign.key with
                                cosign.password)
  --key-password-file FILE      the password of an encrypted --key (one trailing newline ignored)
  --kms gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N
                                sign with a Cloud KMS key version (EC_SIGN_P256_SHA256)
  --kms-endpoint URL            Cloud KMS API endpoint (tests, private endpoints)
  --fulcio-url URL, --rekor-url URL, --identity-token FILE
                                keyless: a Fulcio certificate for the OIDC token in FILE and a
                                Rekor entry (e.g. https://fulcio.sigstore.dev, https://rekor.sigstore.dev)
  --transparency URL|public|off with --key or --kms: record each signature in this Rekor v2
                                transparency log (rekor-tiles) before anything is written; the
                                bundle carries the entry. public: the log Sigstore's signing
                                configuration (from its TUF repository) names as valid now (default off)
  --tuf-mirror URL, --tuf-root FILE
                                with --transparency public: another TUF repository and its initial
                                root.json (a private Sigstore deployment)`;

const KEYLESS = ['fulcio-url', 'rekor-url', 'identity-token'];

export async function signerFromFlags(flags: ParsedFlags, io: CliIo): Promise<Signer> {
  const config = await withTransparency(await signerConfig(flags, io), flags, io);
  try {
    return await createSigner(config);
  } catch (err) {
    const flag = config.kind === 'key' ? '--key' : config.kind === 'kms' ? '--kms' : '--fulcio-url';
    throw new UsageError(`${flag}: ${(err as Error).message}`, { cause: err });
  }
}

async function withTransparency(config: SignerConfig, flags: ParsedFlags, io: CliIo): Promise<SignerConfig> {
  const value = flags.strings.get('transparency');
  const tuf = { mirror: flags.strings.get('tuf-mirror'), root: flags.strings.get('tuf-root') };
  if ((tuf.mirror !== undefined || tuf.root !== undefined) && value !== 'public') throw new UsageError('--tuf-mirror and --tuf-root apply only with --transparency public');
  if (value === undefined || value === 'off') return config;
  if (config.kind === 'sigstore') throw new UsageError('--transparency applies to --key and --kms: a keyless signature is always recorded, in --rekor-url');
  if (value !== 'public') {
    checkEndpoint('--transparency', value);
    return { ...config, transparency: { rekorV2URL: value } };
  }
  return { ...config, transparency: { rekorV2URL: await publicLog(tuf, io) } };
}

/** The Rekor v2 log Sigstore's signing configuration (from a TUF repository) names as valid now. */
async function publicLog(tuf: { mirror: string | undefined; root: string | undefined }, io: CliIo): Promise<string> {
  if (tuf.mirror !== undefined) checkEndpoint('--tuf-mirror', tuf.mirror);
  if (tuf.root !== undefined) await readUserFile('--tuf-root', tuf.root, io);
  try {
    return await rekorV2FromTuf({ ...(tuf.mirror ? { mirrorURL: tuf.mirror } : {}), ...(tuf.root ? { rootPath: resolve(io.cwd, tuf.root) } : {}) }, requestTimeout(undefined));
  } catch (err) {
    throw new UsageError(`--transparency public: ${(err as Error).message}`, { cause: err });
  }
}

async function signerConfig(flags: ParsedFlags, io: CliIo): Promise<SignerConfig> {
  const key = flags.strings.get('key');
  const kms = flags.strings.get('kms');
  const keyless = KEYLESS.some((f) => flags.strings.has(f));
  const chosen = [key && '--key', kms && '--kms', keyless && '--fulcio-url/--rekor-url/--identity-token'].filter(Boolean);
  if (chosen.length === 0) throw new UsageError('say how to sign: --key PRIVATE_KEY_FILE, --kms gcpkms://…, or --fulcio-url/--rekor-url/--identity-token');
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} cannot be used together: choose one signer`);
  if (flags.strings.has('kms-endpoint') && kms === undefined) throw new UsageError('--kms-endpoint applies only with --kms');
  if (flags.strings.has('key-password-file') && key === undefined) throw new UsageError('--key-password-file applies only with --key');
  if (key !== undefined) return keyConfig(key, flags.strings.get('key-password-file'), io);
  if (kms !== undefined) return kmsKeyFromFlags(kms, flags.strings.get('kms-endpoint'));
  return keylessConfig(flags, io);
}

async function keyConfig(key: string, passwordFile: string | undefined, io: CliIo): Promise<SignerConfig> {
  try {
    return await readSigningKey({ path: resolve(io.cwd, key), ...(passwordFile === undefined ? {} : { passwordFile: resolve(io.cwd, passwordFile) }), env: io.env });
  } catch (err) {
    throw new UsageError(`--key ${key}: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? 'KEY_UNREADABLE', cause: err });
  }
}

async function keylessConfig(flags: ParsedFlags, io: CliIo): Promise<SignerConfig> {
  const [fulcioURL, rekorURL, token] = KEYLESS.map((f) => flags.strings.get(f));
  const missing = KEYLESS.filter((f) => !flags.strings.has(f)).map((f) => `--${f}`);
  if (fulcioURL === undefined || rekorURL === undefined || token === undefined) throw new UsageError(`keyless signing also needs ${missing.join(' and ')}`);
  checkEndpoint('--fulcio-url', fulcioURL);
  checkEndpoint('--rekor-url', rekorURL);
  // Read once now so a missing token file is a usage error before any model is measured.
  await readUserFile('--identity-token', token, io);
  return { kind: 'sigstore', fulcioURL, rekorURL, identityToken: tokenFromFile(resolve(io.cwd, token)) };
}
