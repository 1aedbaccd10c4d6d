// The Signer every configuration ends in: pre-authentication-encodes the payload, has a
// KeyHolder sign it, packages one DSSE signature as a bundle v0.3, and lets witnesses (Rekor)
// add their verification material. Key-signed bundles name the key by its SSH fingerprint in
// both the DSSE keyid and the bundle hint; certificate bundles leave both empty.
import { toDSSEBundle, type Bundle } from '@sigstore/bundle';
import type { Witness } from '@sigstore/sign';

import { toSigningError } from './sigstore/errors.ts';
import type { KeyHolder, Signature } from './key-holder.ts';
import { preAuthEncoding } from './pae.ts';
import { assertSignatureVerifies } from './self-check.ts';
import type { KeyNaming, SignOptions, Signer } from './signer.ts';

export interface DsseSignerOptions {
  readonly keyHolder: KeyHolder;
  readonly witnesses?: ReadonlyArray<Witness>;
}

export class DsseSigner implements Signer {
  readonly #keyHolder: KeyHolder;
  readonly #witnesses: ReadonlyArray<Witness>;

  constructor(options: DsseSignerOptions) {
    this.#keyHolder = options.keyHolder;
    this.#witnesses = options.witnesses ?? [];
  }

  async sign(payload: Buffer, payloadType: string, options: SignOptions = {}): Promise<Bundle> {
    const pae = preAuthEncoding(payloadType, payload);
    const signature = await this.#keyHolder.sign(pae).catch(rethrow);
    if (!this.#keyHolder.signsInProcess) assertSignatureVerifies(pae, signature);
    const name = keyName(signature.key, options.keyNaming);
    const bundle = toDSSEBundle({
      artifact: payload,
      artifactType: payloadType,
      signature: signature.signature,
      ...keyMaterial(signature.key, name?.hint),
      certificateChain: false,
    });
    // toDSSEBundle writes the hint as the keyid too; a naming may want them to differ. Set before
    // any witness sees the envelope.
    if (name && bundle.content.$case === 'dsseEnvelope') for (const s of bundle.content.dsseEnvelope.signatures) s.keyid = name.keyid;
    await this.#witness(bundle, signature.key);
    return bundle;
  }

  async #witness(bundle: Bundle, key: Signature['key']): Promise<void> {
    const publicKey = key.$case === 'publicKey' ? key.publicKey : key.certificate;
    const materials = await Promise.all(this.#witnesses.map((w) => w.testify(bundle.content, publicKey))).catch(rethrow);
    bundle.verificationMaterial.tlogEntries = materials.flatMap((m) => m.tlogEntries ?? []);
    bundle.verificationMaterial.timestampVerificationData = {
      rfc3161Timestamps: materials.flatMap((m) => m.rfc3161Timestamps ?? []),
    };
  }
}

function keyName(key: Signature['key'], naming: KeyNaming | undefined): ReturnType<KeyNaming> | undefined {
  return naming && key.$case === 'publicKey' ? naming(key.publicKey) : undefined;
}

function keyMaterial(key: Signature['key'], hint: string | undefined): { certificate?: Buffer; keyHint?: string } {
  return key.$case === 'x509Certificate'
    ? { certificate: pemToDer(key.certificate) }
    : { keyHint: hint ?? key.hint ?? '' };
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function rethrow(err: unknown): never {
  throw toSigningError(err);
}
