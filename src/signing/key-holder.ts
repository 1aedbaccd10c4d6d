// The role that owns a private key (a PEM file, a Cloud KMS key version, an ephemeral key) and
// signs raw bytes with it. Structurally the `Signer` of @sigstore/sign, so its Fulcio signer
// can wrap any of ours.
import type { Signature } from '@sigstore/sign';

export type { Signature };

export interface KeyHolder {
  /**
   * True when this process signs with a private key it holds and whose public half it derived
   * itself: a self-check would only run the same OpenSSL call on the same key again, so it is
   * skipped. A remote signer (Cloud KMS) is always checked.
   */
  readonly signsInProcess?: boolean;
  /** Signs sha256(data) with ECDSA P-256; the signature is ASN.1 DER. */
  sign(data: Buffer): Promise<Signature>;
}
