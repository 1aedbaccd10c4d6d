// How attest-ci signs: --key or --kms as attest does, or keyless (the default) with the CI
// platform's own identity token, read once so that the statement is built from the very token
// Fulcio certifies. The token is never printed.
import type { CiEnv, CiPlatform } from '../../ci/platform.ts';
import { createSigner, type Signer } from '../../signing/index.ts';
import { requestTimeout } from '../../signing/deadline.ts';
import { UsageError } from '../errors.ts';
import type { FlagSpecs, ParsedFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { readUserFile } from '../local-files.ts';
import { SIGNER_FLAGS, signerFromFlags } from '../signer-flags.ts';

export const CI_SIGNER_FLAGS: FlagSpecs = SIGNER_FLAGS;

export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

export const CI_SIGNER_HELP = `Signer (keyless unless --key or --kms):
  keyless (default)             a Fulcio certificate for the platform's identity token (GitLab:
                                $SIGSTORE_ID_TOKEN, from id_tokens with aud: sigstore; Cloud Build:
                                the build's service account) and a Rekor entry
  --fulcio-url URL              keyless: Fulcio (default ${DEFAULT_FULCIO_URL})
  --rekor-url URL               keyless: Rekor (default ${DEFAULT_REKOR_URL})
  --identity-token FILE         keyless: read the token from FILE instead
  --key FILE|DIR, --key-password-file FILE, --kms URI, --kms-endpoint URL, --transparency URL|public|off
                                sign with a key or a Cloud KMS key version, as 'slsa-ml attest' does;
                                the job's facts then come from its CI variables: the job's own word`;

export interface CiSigner {
  readonly signer: Signer;
  /** The identity token the certificate is issued for; undefined with --key or --kms. */
  readonly identityToken: string | undefined;
}

/**
 * The signer the flags choose, checked now (usage errors before any work) but made on `ready()`:
 * keyless, that fetches the identity token, which expires, so attest-ci calls it only once the
 * model is measured (hashing a large model can outlast a token fetched first).
 */
export async function ciSignerFromFlags(flags: ParsedFlags, io: CliIo, platform: CiPlatform): Promise<{ ready: () => Promise<CiSigner> }> {
  if (flags.strings.has('key') || flags.strings.has('kms')) {
    const signer = await signerFromFlags(flags, io);
    return { ready: () => Promise.resolve({ signer, identityToken: undefined }) };
  }
  for (const flag of ['key-password-file', 'kms-endpoint', 'transparency', 'tuf-mirror', 'tuf-root']) {
    if (flags.strings.has(flag)) throw new UsageError(`--${flag} applies only with --key or --kms`);
  }
  const fulcioURL = serviceUrl('--fulcio-url', flags.strings.get('fulcio-url') ?? DEFAULT_FULCIO_URL);
  const rekorURL = serviceUrl('--rekor-url', flags.strings.get('rekor-url') ?? DEFAULT_REKOR_URL);
  const tokenFile = flags.strings.get('identity-token');
  const ready = async (): Promise<CiSigner> => {
    const token = tokenFile === undefined ? await platformToken(platform, io.env) : (await readUserFile('--identity-token', tokenFile, io)).toString('utf8').trim();
    if (token === '') throw new UsageError(`--identity-token ${tokenFile ?? ''}: the file is empty`);
    const signer = await createSigner({ kind: 'sigstore', fulcioURL, rekorURL, identityToken: () => Promise.resolve(token) });
    return { signer, identityToken: token };
  };
  return { ready };
}

function platformToken(platform: CiPlatform, env: CiEnv): Promise<string> {
  return platform.identityToken(env)({ signal: AbortSignal.timeout(requestTimeout(undefined)) });
}

// The identity token travels to Fulcio: only over TLS, or to this machine itself (tests, proxies).
function serviceUrl(flag: string, value: string): string {
  const url = URL.parse(value);
  const loopback = url?.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (!url || (url.protocol !== 'https:' && !loopback)) throw new UsageError(`${flag} ${JSON.stringify(value)}: must be an https:// URL (http:// only to this machine)`);
  return value;
}
