// Reads a signing key whatever form it comes in: PKCS#8 or SEC1 PEM ("PRIVATE KEY", "EC PRIVATE
// KEY", as `slsa-ml keygen --no-password` and Chains' x509.pem), encrypted PKCS#8, or cosign's
// encrypted key. The key text and the password never appear in a message.
import { createPrivateKey, type KeyObject } from 'node:crypto';

import { SigningError } from '../errors.ts';
import { COSIGN_KEY_LABELS, decryptCosignKey } from './cosign-format.ts';
import { pemLabel } from './pem.ts';

export function parsePrivateKey(pem: string, password?: Uint8Array | string): KeyObject {
  const label = pemLabel(pem);
  const bytes = password === undefined ? undefined : typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  if (label === 'PUBLIC KEY' || label === 'CERTIFICATE') {
    throw new SigningError({ code: 'KEY_INVALID', message: `signing key is a ${label.toLowerCase()}, not a private key` });
  }
  if ((COSIGN_KEY_LABELS as readonly string[]).includes(label ?? '')) return cosignKey(pem, label ?? '', bytes);
  if (label === 'ENCRYPTED PRIVATE KEY') return encryptedPkcs8(pem, bytes);
  return pemKey(pem);
}

// `COSIGN_PASSWORD= cosign generate-key-pair` encrypts with the empty password: tried when none is given.
function cosignKey(pem: string, label: string, password: Uint8Array | undefined): KeyObject {
  let der: Buffer;
  try {
    der = decryptCosignKey(pem, label, password ?? new Uint8Array());
  } catch (err) {
    if (password === undefined && (err as SigningError).code === 'KEY_PASSWORD_WRONG') throw passwordRequired();
    throw err;
  }
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

function encryptedPkcs8(pem: string, password: Uint8Array | undefined): KeyObject {
  if (password === undefined) throw passwordRequired();
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase: Buffer.from(password) });
  } catch {
    throw new SigningError({ code: 'KEY_PASSWORD_WRONG', message: 'the password does not decrypt the signing key' });
  }
}

function pemKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    // The cause names the parse failure only; the key text itself is never put in a message.
    throw new SigningError({ code: 'KEY_INVALID', message: 'signing key is not a readable PEM private key (PKCS#8, SEC1, or cosign\'s encrypted key)', cause });
  }
}

function passwordRequired(): SigningError {
  return new SigningError({ code: 'KEY_PASSWORD_REQUIRED', message: 'the signing key is encrypted: set COSIGN_PASSWORD or give its password file' });
}
