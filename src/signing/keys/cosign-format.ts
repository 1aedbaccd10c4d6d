// cosign's encrypted private keys (`cosign generate-key-pair`, Tekton Chains' cosign.key): a PEM
// block "ENCRYPTED SIGSTORE PRIVATE KEY" (cosign v1: "ENCRYPTED COSIGN PRIVATE KEY") whose body is
// go-securesystemslib's `encrypted` JSON — scrypt derives a 32-byte key from the password and a
// random salt, NaCl secretbox (XSalsa20-Poly1305) seals the key's PKCS#8 DER. Only the scrypt
// parameters that library writes are accepted: others could make reading a key cost any amount
// of memory and time.
import { randomBytes, scryptSync } from 'node:crypto';

import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';

import { SigningError } from '../errors.ts';
import { pemBody, toPem } from './pem.ts';

export const COSIGN_KEY_LABELS = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'] as const;

const ALLOWED_N = [32_768, 65_536, 131_072];
const WRITE_N = 65_536;
const SCRYPT_MAXMEM = 256 * 1024 * 1024;

interface Sealed {
  kdf: { name: 'scrypt'; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: 'nacl/secretbox'; nonce: string };
  ciphertext: string;
}

/** PKCS#8 DER of the key; throws KEY_PASSWORD_WRONG when the password does not open it. */
export function decryptCosignKey(pem: string, label: string, password: Uint8Array): Buffer {
  const sealed = readSealed(pemBody(pem, label));
  const { N, r, p } = sealed.kdf.params;
  const key = scryptSync(password, Buffer.from(sealed.kdf.salt, 'base64'), 32, { N, r, p, maxmem: SCRYPT_MAXMEM });
  try {
    return Buffer.from(xsalsa20poly1305(key, Buffer.from(sealed.cipher.nonce, 'base64')).decrypt(Buffer.from(sealed.ciphertext, 'base64')));
  } catch {
    throw new SigningError({ code: 'KEY_PASSWORD_WRONG', message: 'the password does not decrypt the cosign key' });
  }
}

/** The PEM cosign writes for a PKCS#8 DER key: cosign, Tekton Chains and slsa-ml all read it. */
export function encryptCosignKey(pkcs8Der: Uint8Array, password: Uint8Array): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = scryptSync(password, salt, 32, { N: WRITE_N, r: 8, p: 1, maxmem: SCRYPT_MAXMEM });
  const sealed: Sealed = {
    kdf: { name: 'scrypt', params: { N: WRITE_N, r: 8, p: 1 }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(xsalsa20poly1305(key, nonce).encrypt(pkcs8Der)).toString('base64'),
  };
  return toPem(COSIGN_KEY_LABELS[0], Buffer.from(JSON.stringify(sealed)));
}

function readSealed(body: Buffer | undefined): Sealed {
  let json: unknown;
  try {
    json = JSON.parse(body?.toString('utf8') ?? '');
  } catch {
    throw invalid('its body is not the encrypted-key JSON cosign writes');
  }
  const sealed = json as Partial<Sealed>;
  if (!isSecretBox(sealed)) throw invalid('it is not scrypt + nacl/secretbox');
  const { N, r, p } = sealed.kdf.params;
  if (!ALLOWED_N.includes(N) || r !== 8 || p !== 1) throw invalid('its scrypt parameters are not ones cosign writes');
  return sealed;
}

function isSecretBox(sealed: Partial<Sealed>): sealed is Sealed {
  const { kdf, cipher, ciphertext } = sealed;
  const texts = [kdf?.salt, cipher?.nonce, ciphertext];
  return kdf?.name === 'scrypt' && cipher?.name === 'nacl/secretbox' && typeof kdf.params === 'object' && texts.every((t) => typeof t === 'string');
}

function invalid(reason: string): SigningError {
  return new SigningError({ code: 'KEY_INVALID', message: `signing key is not a readable cosign key: ${reason}` });
}
