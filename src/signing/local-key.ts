// A KeyHolder over a PEM private key given as file or Secret contents (any form keys/private-key.ts
// reads, cosign's encrypted keys included).
import { createPublicKey, sign, type KeyObject } from 'node:crypto';

import { assertP256, sshFingerprint } from './fingerprint.ts';
import type { KeyHolder, Signature } from './key-holder.ts';
import { parsePrivateKey } from './keys/private-key.ts';

export class LocalKeyHolder implements KeyHolder {
  readonly signsInProcess = true;
  readonly #privateKey: KeyObject;
  readonly #publicKeyPem: string;
  readonly #hint: string;

  constructor(keyPem: string, password?: Uint8Array | string) {
    this.#privateKey = parsePrivateKey(keyPem, password);
    assertP256(this.#privateKey);
    const publicKey = createPublicKey(this.#privateKey);
    this.#publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    this.#hint = sshFingerprint(publicKey);
  }

  sign(data: Buffer): Promise<Signature> {
    const signature = sign('sha256', data, { key: this.#privateKey, dsaEncoding: 'der' });
    return Promise.resolve({ signature, key: { $case: 'publicKey', publicKey: this.#publicKeyPem, hint: this.#hint } });
  }
}
