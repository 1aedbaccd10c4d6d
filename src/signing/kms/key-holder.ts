// A KeyHolder whose private key stays in Cloud KMS. The public key is fetched once, checked
// to be P-256, and names the key in every bundle by its SSH fingerprint.
import { createHash, createPublicKey } from 'node:crypto';

import { SigningError } from '../errors.ts';
import { assertP256, sshFingerprint } from '../fingerprint.ts';
import type { KeyHolder, Signature } from '../key-holder.ts';
import type { KmsClient } from './client.ts';

const ALGORITHM = 'EC_SIGN_P256_SHA256';

export class KmsKeyHolder implements KeyHolder {
  readonly #client: KmsClient;
  readonly #name: string;
  readonly #publicKeyPem: string;
  readonly #hint: string;

  private constructor(client: KmsClient, name: string, publicKeyPem: string) {
    this.#client = client;
    this.#name = name;
    this.#publicKeyPem = publicKeyPem;
    const publicKey = createPublicKey(publicKeyPem);
    assertP256(publicKey);
    this.#hint = sshFingerprint(publicKey);
  }

  static async create(client: KmsClient, name: string): Promise<KmsKeyHolder> {
    const publicKey = await client.getPublicKey(name);
    if (publicKey.algorithm !== ALGORITHM) {
      throw new SigningError({ code: 'KEY_UNSUPPORTED', message: `KMS key ${name} has algorithm ${publicKey.algorithm}, want ${ALGORITHM}` });
    }
    return new KmsKeyHolder(client, name, publicKey.pem);
  }

  async sign(data: Buffer): Promise<Signature> {
    const digest = createHash('sha256').update(data).digest();
    const signature = await this.#client.asymmetricSign(this.#name, digest);
    return { signature, key: { $case: 'publicKey', publicKey: this.#publicKeyPem, hint: this.#hint } };
  }
}
