// The key identifier cosign and sigstore-go accept in a DSSE keyid / bundle hint: the OpenSSH
// SHA256 fingerprint. Any other non-empty value makes them skip the key.
import { createHash, type KeyObject } from 'node:crypto';

import { SigningError } from './errors.ts';

const SSH_KEY_TYPE = 'ecdsa-sha2-nistp256';
const SSH_CURVE = 'nistp256';

/** `SHA256:` + unpadded base64 of sha256 over the SSH wire encoding of a P-256 public key. */
export function sshFingerprint(publicKey: KeyObject): string {
  assertP256(publicKey);
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ]);
  const wire = Buffer.concat([sshString(Buffer.from(SSH_KEY_TYPE)), sshString(Buffer.from(SSH_CURVE)), sshString(point)]);
  return 'SHA256:' + createHash('sha256').update(wire).digest('base64').replace(/=+$/, '');
}

/**
 * How model_signing names a key (sign_ec_key.py): the bundle's publicKey.hint is the hex sha256 of
 * the public key as PEM SubjectPublicKeyInfo, the way Python's cryptography writes it (re-encoded
 * here: a KMS key's PEM may be laid out otherwise).
 */
export function pemSha256Hint(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'pem' })).digest('hex');
}

/** Throws KEY_UNSUPPORTED unless the key is an EC key on P-256, the only curve we sign with. */
export function assertP256(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SigningError({ code: 'KEY_UNSUPPORTED', message: 'key is not an ECDSA P-256 key' });
  }
}

function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}
