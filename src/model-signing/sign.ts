// Signs a model's manifest as an OpenSSF model-signing v1.0 signature: the Sigstore bundle v0.3
// `model_signing verify key|sigstore` reads, made by the same signer as the SLSA provenance.
import { signStatement, type Signer } from '../signing/index.ts';
import { modelSigningKeyNaming } from './key-naming.ts';

/** `payload` from serializeModelSigningStatement; returns the `.sig` contents (bundle JSON). */
export async function signModelSigningPayload(payload: Buffer, signer: Signer): Promise<string> {
  const { bundleJson } = await signStatement(payload, signer, { keyNaming: modelSigningKeyNaming });
  return withEmptyKeyid(bundleJson);
}

// Protobuf JSON drops an empty string; model_signing's key signer writes `"keyid": ""` explicitly.
function withEmptyKeyid(bundleJson: string): string {
  const bundle = JSON.parse(bundleJson) as { verificationMaterial?: { publicKey?: unknown }; dsseEnvelope?: { signatures?: Array<{ sig: string; keyid?: string }> } };
  const signatures = bundle.dsseEnvelope?.signatures;
  if (!bundle.verificationMaterial?.publicKey || !signatures) return bundleJson;
  bundle.dsseEnvelope = { ...bundle.dsseEnvelope, signatures: signatures.map((s) => ({ sig: s.sig, keyid: s.keyid ?? '' })) };
  return JSON.stringify(bundle);
}
