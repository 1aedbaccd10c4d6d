// The one place that turns "whom do I trust" into a SignatureVerifier.
import { fetchKmsPublicKey } from '../signing/index.ts';
import { VerifyError } from './errors.ts';
import { IdentityVerifier, type IdentityPolicy } from './identity-verifier.ts';
import { PublicKeyVerifier } from './key-verifier.ts';
import type { SignatureVerifier } from './signature-verifier.ts';

export type TrustConfig =
  | { kind: 'key'; publicKeyPem: string }
  | { kind: 'kms'; keyName: string; apiEndpoint?: string }
  | ({ kind: 'identity' } & IdentityPolicy);

export async function createSignatureVerifier(trust: TrustConfig): Promise<SignatureVerifier> {
  switch (trust.kind) {
    case 'key':
      return new PublicKeyVerifier(trust.publicKeyPem);
    case 'kms':
      return new PublicKeyVerifier(await kmsPublicKey(trust.keyName, trust.apiEndpoint));
    case 'identity':
      return new IdentityVerifier(trust);
    default:
      throw new VerifyError('TRUST_KIND_UNKNOWN', `unknown trust kind ${JSON.stringify((trust as { kind?: unknown }).kind)}`);
  }
}

async function kmsPublicKey(keyName: string, apiEndpoint?: string): Promise<string> {
  try {
    return await fetchKmsPublicKey(keyName, apiEndpoint);
  } catch (cause) {
    throw new VerifyError('KEY_UNAVAILABLE', `cannot fetch the public key of ${keyName}: ${(cause as Error).message}`, cause);
  }
}
