// The third object next to a model: the OpenSSF model-signing signature (`<model>.sig`). Its format
// has no place for a run's identity, so "ours" here means: it verifies with the operator's own key
// (or keyless identity) and lists exactly this model's files and digests — what our earlier
// attempt would have written. A copy of an earlier signature of ours over byte-identical files
// passes too; it states nothing untrue (we did sign those exact bytes), and it is never the
// record of the run: the bundle is.
import { verifyModelSignature, type Measured } from '../../src/model-signing/index.ts';
import type { SignatureVerifier } from '../../src/verify/index.ts';
import type { Judge } from './slot-io.ts';

export function modelSignatureJudge(ownVerifier: SignatureVerifier | undefined, measured: Measured): Judge {
  return async (content) => {
    if (!ownVerifier) return { state: 'foreign', why: 'this signer has no verification identity configured, so no existing object can be shown to be ours' };
    const result = await verifyModelSignature({ signature: content, trust: ownVerifier, model: measured });
    if (result.ok) return { state: 'ours', content };
    const first = result.checks.find((c) => !c.ok);
    return { state: 'foreign', why: first ? `${first.name} check failed: ${first.code ?? ''} ${first.reason ?? ''}`.trim() : 'it does not verify' };
  };
}
