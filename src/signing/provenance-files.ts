// Signs an in-toto Statement once and renders the two files written next to a model: the
// Sigstore bundle (.sigstore.json) and the same DSSE envelope as one JSON line (.intoto.jsonl).
import { BUNDLE_V03_MEDIA_TYPE, envelopeToJSON } from '@sigstore/bundle';

import { bundleJson } from './bundle-json.ts';
import { SigningError } from './errors.ts';
import { IN_TOTO_PAYLOAD_TYPE } from './pae.ts';
import type { SignOptions, Signer } from './signer.ts';

export interface SignedProvenance {
  /** Sigstore bundle v0.3 JSON. */
  readonly bundleJson: string;
  /** The bundle's DSSE envelope as one JSON line, newline-terminated. */
  readonly envelopeJsonl: string;
}

/** Signs any in-toto Statement (SLSA provenance, a model-signing manifest) as one DSSE signature. */
export async function signStatement(payload: Buffer, signer: Signer, options?: SignOptions): Promise<SignedProvenance> {
  const bundle = await signer.sign(payload, IN_TOTO_PAYLOAD_TYPE, options);
  if (bundle.mediaType !== BUNDLE_V03_MEDIA_TYPE || bundle.content.$case !== 'dsseEnvelope') {
    throw new SigningError({ code: 'BUNDLE_INVALID', message: `signer produced ${bundle.mediaType} without a DSSE envelope` });
  }
  if (bundle.content.dsseEnvelope.signatures.length !== 1) {
    throw new SigningError({ code: 'BUNDLE_INVALID', message: 'a provenance bundle must hold exactly one signature' });
  }
  return {
    bundleJson: bundleJson(bundle),
    envelopeJsonl: JSON.stringify(envelopeToJSON(bundle.content.dsseEnvelope)) + '\n',
  };
}
