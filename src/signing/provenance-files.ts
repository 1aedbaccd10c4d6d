// Signs an in-toto Statement once and renders the two files written next to a model: the
// Sigstore bundle (.sigstore.json) and the same DSSE envelope as one JSON line (.intoto.jsonl).
import { BUNDLE_V03_MEDIA_TYPE, bundleToJSON, envelopeToJSON } from '@sigstore/bundle';

import { SigningError } from './errors.ts';
import { IN_TOTO_PAYLOAD_TYPE } from './pae.ts';
import type { Signer } from './signer.ts';

export interface SignedProvenance {
  /** Sigstore bundle v0.3 JSON. */
  readonly bundleJson: string;
  /** The bundle's DSSE envelope as one JSON line, newline-terminated. */
  readonly envelopeJsonl: string;
}

export async function signStatement(payload: Buffer, signer: Signer): Promise<SignedProvenance> {
  const bundle = await signer.sign(payload, IN_TOTO_PAYLOAD_TYPE);
  if (bundle.mediaType !== BUNDLE_V03_MEDIA_TYPE || bundle.content.$case !== 'dsseEnvelope') {
    throw new SigningError({ code: 'BUNDLE_INVALID', message: `signer produced ${bundle.mediaType} without a DSSE envelope` });
  }
  if (bundle.content.dsseEnvelope.signatures.length !== 1) {
    throw new SigningError({ code: 'BUNDLE_INVALID', message: 'a provenance bundle must hold exactly one signature' });
  }
  return {
    bundleJson: JSON.stringify(withTlogEntries(bundleToJSON(bundle))),
    envelopeJsonl: JSON.stringify(envelopeToJSON(bundle.content.dsseEnvelope)) + '\n',
  };
}

// Protobuf JSON leaves out an empty list, but sigstore-python (and so model-signing) requires
// verificationMaterial.tlogEntries: a key-signed bundle carries it as [].
function withTlogEntries(json: ReturnType<typeof bundleToJSON>): object {
  const { mediaType, verificationMaterial, ...content } = json;
  const { publicKey, x509CertificateChain, certificate, tlogEntries, ...others } = verificationMaterial;
  const material = { publicKey, x509CertificateChain, certificate, tlogEntries: tlogEntries ?? [], ...others };
  return { mediaType, verificationMaterial: material, ...content };
}
