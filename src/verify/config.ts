// The one place that turns "whom do I trust" into a SignatureVerifier.
import { fetchKmsPublicKey } from '../signing/index.ts';
import { VerifyError } from './errors.ts';
import { IdentityVerifier, type IdentityPolicy } from './identity-verifier.ts';
import { PublicKeyVerifier, type KeyVerifierLogs } from './key-verifier.ts';
import { logsFromTrustedRoot } from './trusted-root.ts';
import type { SignatureVerifier } from './signature-verifier.ts';

/** For a key: the transparency logs its signatures must be in (a trusted root's), unless ignored. */
export interface KeyLogTrust {
  /** A Sigstore trusted_root.json; its `tlogs` are the logs. */
  readonly trustedRoot?: string;
  /** cosign's --insecure-ignore-tlog: log entries are neither required nor checked. */
  readonly ignoreTlog?: boolean;
}

export type TrustConfig =
  | ({ kind: 'key'; publicKeyPem: string } & KeyLogTrust)
  | ({ kind: 'kms'; keyName: string; apiEndpoint?: string } & KeyLogTrust)
  | ({ kind: 'identity' } & IdentityPolicy);

export async function createSignatureVerifier(trust: TrustConfig): Promise<SignatureVerifier> {
  switch (trust.kind) {
    case 'key':
      return new PublicKeyVerifier(trust.publicKeyPem, keyLogs(trust));
    case 'kms':
      return new PublicKeyVerifier(await kmsPublicKey(trust.keyName, trust.apiEndpoint), keyLogs(trust));
    case 'identity':
      return new IdentityVerifier(trust);
    default:
      throw new VerifyError('TRUST_KIND_UNKNOWN', `unknown trust kind ${JSON.stringify((trust as { kind?: unknown }).kind)}`);
  }
}

function keyLogs(trust: KeyLogTrust): KeyVerifierLogs {
  return { logs: trust.trustedRoot === undefined ? [] : logsFromTrustedRoot(trust.trustedRoot), ignoreTlog: trust.ignoreTlog === true };
}

async function kmsPublicKey(keyName: string, apiEndpoint?: string): Promise<string> {
  try {
    return await fetchKmsPublicKey(keyName, apiEndpoint);
  } catch (cause) {
    throw new VerifyError('KEY_UNAVAILABLE', `cannot fetch the public key of ${keyName}: ${(cause as Error).message}`, cause);
  }
}
