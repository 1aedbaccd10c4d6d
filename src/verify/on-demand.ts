// A verifier for one public key whose implementation (@sigstore/verify and what it loads) is
// loaded on first use. The operator checks its own signatures only when a name next to a model is
// already taken, which most attestations never meet; its start-up should not pay for it.
import type { ProvenanceDocument } from './document.ts';
import type { SignatureVerdict, SignatureVerifier } from './signature-verifier.ts';

export function publicKeyVerifierOnDemand(publicKeyPem: string): SignatureVerifier {
  let loaded: Promise<SignatureVerifier> | undefined;
  return {
    async verify(document: ProvenanceDocument): Promise<SignatureVerdict> {
      loaded ??= import('./key-verifier.ts').then((m) => new m.PublicKeyVerifier(publicKeyPem));
      return (await loaded).verify(document);
    },
  };
}
