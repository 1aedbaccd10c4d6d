// The signing role the operator sees: one DSSE signature over a payload, packaged as a Sigstore
// bundle (with whatever certificate and transparency-log entries the implementation adds).
import type { Bundle } from '@sigstore/bundle';

/**
 * How a key-signed bundle names its key: the DSSE `keyid` and the bundle's `publicKey.hint`. Both
 * are outside the signature; each verifier expects its own convention (cosign and sigstore-go the
 * SSH fingerprint in both, model_signing an empty keyid and a hash of the PEM key as the hint).
 */
export type KeyNaming = (publicKeyPem: string) => { readonly keyid: string; readonly hint: string };

export interface SignOptions {
  /** Default: the key holder's SSH fingerprint as both keyid and hint. Unused for certificates. */
  readonly keyNaming?: KeyNaming;
}

export interface Signer {
  sign(payload: Buffer, payloadType: string, options?: SignOptions): Promise<Bundle>;
}
