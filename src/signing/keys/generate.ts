// A new P-256 key pair as `cosign generate-key-pair` writes one: the private key in cosign's
// encrypted format (cosign, Tekton Chains and slsa-ml all sign with it; cosign refuses a plain
// PKCS#8 key), the public key as SubjectPublicKeyInfo PEM (cosign.pub). An empty password is what
// cosign writes for COSIGN_PASSWORD="": encrypted in form, readable by anyone with the file.
import { generateKeyPairSync } from 'node:crypto';

import { encryptCosignKey } from './cosign-format.ts';

export interface GeneratedKeyPair {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export function generateSigningKeyPair(password: Uint8Array): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPem = encryptCosignKey(privateKey.export({ format: 'der', type: 'pkcs8' }), password);
  return { privateKeyPem, publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}
