// Checks a signature against the key material that came back with it before anything is
// published: a KMS key that is not the one configured, a corrupted signature or a raw r||s
// signature is refused here instead of being discovered by a consumer.
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';

import { SigningError } from './errors.ts';
import type { Signature } from './key-holder.ts';

export function assertSignatureVerifies(signed: Buffer, signature: Signature): void {
  if (!isDerSequence(signature.signature)) {
    throw new SigningError({ code: 'SIGNATURE_NOT_DER', message: 'signature is not an ASN.1 DER ECDSA signature' });
  }
  const key = publicKeyOf(signature.key);
  if (!verify('sha256', signed, { key, dsaEncoding: 'der' }, signature.signature)) {
    throw new SigningError({ code: 'SIGNATURE_SELF_CHECK', message: 'signature does not verify with the signing key', retryable: true });
  }
}

/** The last key parsed: a signer returns the same key material with every signature. */
let last: { pem: string; key: KeyObject } | undefined;

function publicKeyOf(material: Signature['key']): KeyObject {
  const pem = material.$case === 'publicKey' ? material.publicKey : material.certificate;
  if (last?.pem !== pem) last = { pem, key: material.$case === 'publicKey' ? createPublicKey(pem) : new X509Certificate(pem).publicKey };
  return last.key;
}

// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, short-form length for P-256.
function isDerSequence(sig: Buffer): boolean {
  return sig.length >= 8 && sig[0] === 0x30 && sig[1] === sig.length - 2 && sig[2] === 0x02;
}
