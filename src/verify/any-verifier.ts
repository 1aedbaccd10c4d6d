// A signature verifier that accepts what any of several verifiers accepts: an operator's current
// key and the keys it signed with before a rotation. The first verdict that passes wins; when none
// does, the first verifier's (the current key's) explains why.
import type { ProvenanceDocument } from './document.ts';
import type { SignatureVerdict, SignatureVerifier } from './signature-verifier.ts';

export function anyOfVerifiers(verifiers: readonly SignatureVerifier[]): SignatureVerifier {
  if (verifiers.length === 1) return verifiers[0] as SignatureVerifier;
  return {
    async verify(document: ProvenanceDocument): Promise<SignatureVerdict> {
      let first: SignatureVerdict | undefined;
      for (const verifier of verifiers) {
        const verdict = await verifier.verify(document);
        if (verdict.outcome.ok) return verdict;
        first ??= verdict;
      }
      if (!first) throw new Error('anyOfVerifiers needs at least one verifier');
      return first;
    },
  };
}
