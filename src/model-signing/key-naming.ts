// How model_signing names a signing key (sign_ec_key.py): the DSSE keyid stays empty and the
// bundle's publicKey.hint is the hex sha256 of the public key as PEM SubjectPublicKeyInfo, the
// way Python's cryptography writes it. `model_signing verify key` refuses a non-empty hint that
// differs ("Key mismatch"), so the PEM is re-encoded here: a KMS key's PEM may be laid out otherwise.
import { createPublicKey } from 'node:crypto';

import { pemSha256Hint, type KeyNaming } from '../signing/index.ts';

/** The last key's hint: a signer names the same key with every signature. */
let last: { pem: string; hint: string } | undefined;

export function modelSigningKeyHint(publicKeyPem: string): string {
  if (last?.pem !== publicKeyPem) {
    last = { pem: publicKeyPem, hint: pemSha256Hint(createPublicKey(publicKeyPem)) };
  }
  return last.hint;
}

export const modelSigningKeyNaming: KeyNaming = (publicKeyPem) => ({ keyid: '', hint: modelSigningKeyHint(publicKeyPem) });
