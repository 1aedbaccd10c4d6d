// verifyModelSignature, loaded when first called: the verifier (src/verify, @sigstore/verify) is
// most of this folder's weight, and a signer — the operator writing a `.sig` next to a model it
// has just measured — needs it only to judge a signature already there.
import type { VerificationResult } from '../verify/index.ts';
import type { ModelSignatureRequest } from './verify.ts';

export async function verifyModelSignature(request: ModelSignatureRequest): Promise<VerificationResult> {
  return (await import('./verify.ts')).verifyModelSignature(request);
}
