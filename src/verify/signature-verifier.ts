// The role that decides whether the one DSSE signature was made by whom the caller trusts.
import type { ProvenanceDocument } from './document.ts';
import type { CheckOutcome, SignerIdentity } from './result.ts';

export interface SignatureVerdict {
  readonly outcome: CheckOutcome;
  readonly signer?: SignerIdentity;
  /** The key that verified a key signature (PEM): checks of how a format names its key use it. */
  readonly publicKeyPem?: string;
}

export interface SignatureVerifier {
  verify(document: ProvenanceDocument): Promise<SignatureVerdict>;
}
