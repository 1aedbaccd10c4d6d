// The role that decides whether the one DSSE signature was made by whom the caller trusts.
import type { ProvenanceDocument } from './document.ts';
import type { CheckOutcome, SignerIdentity } from './result.ts';

export interface SignatureVerdict {
  readonly outcome: CheckOutcome;
  readonly signer?: SignerIdentity;
}

export interface SignatureVerifier {
  verify(document: ProvenanceDocument): Promise<SignatureVerdict>;
}
