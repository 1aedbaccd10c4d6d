// A bundle as JSON every verifier reads. Protobuf JSON leaves out default values (an empty list,
// a zero), but sigstore-python's bundle model — what model_signing and sigstore-python load
// bundles with — requires some of them: verificationMaterial.tlogEntries (a key-signed bundle
// carries []), and in each inclusion proof `logIndex` (0 for a log's first entry) and `hashes`
// (none in a one-entry tree). Explicit defaults parse the same everywhere else.
import { bundleToJSON, type Bundle } from '@sigstore/bundle';

type Json = Record<string, unknown>;

export function bundleJson(bundle: Bundle): string {
  const { mediaType, verificationMaterial, ...content } = bundleToJSON(bundle);
  const { publicKey, x509CertificateChain, certificate, tlogEntries, ...others } = verificationMaterial;
  const entries = (tlogEntries ?? []).map((entry) => withProofDefaults(entry as unknown as Json));
  const material = { publicKey, x509CertificateChain, certificate, tlogEntries: entries, ...others };
  return JSON.stringify({ mediaType, verificationMaterial: material, ...content });
}

function withProofDefaults(entry: Json): Json {
  const proof = entry.inclusionProof as Json | undefined;
  if (!proof) return entry;
  return { ...entry, inclusionProof: { logIndex: '0', ...proof, hashes: proof.hashes ?? [] } };
}
