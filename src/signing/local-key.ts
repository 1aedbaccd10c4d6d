// A KeyHolder over a PEM private key given as file or Secret contents.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

import { SigningError } from './errors.ts';
import { assertP256, sshFingerprint } from './fingerprint.ts';
import type { KeyHolder, Signature } from './key-holder.ts';

export class LocalKeyHolder implements KeyHolder {
  readonly #privateKey: KeyObject;
  readonly #publicKeyPem: string;
  readonly #hint: string;

  constructor(keyPem: string) {
    this.#privateKey = parsePrivateKey(keyPem);
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

function parsePrivateKey(keyPem: string): KeyObject {
  try {
    return createPrivateKey({ key: keyPem, format: 'pem' });
  } catch (cause) {
    // The cause names the parse failure only; the key text itself is never put in a message.
    throw new SigningError({ code: 'KEY_INVALID', message: 'signing key is not a readable unencrypted PEM private key', cause });
  }
}
