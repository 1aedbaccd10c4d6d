// The model's OpenSSF model-signing signature (MODEL.sig, or the file --model-signature names),
// checked with the same trust and the same measurement as its provenance. Absent, it is reported
// as absent and decides nothing — unless --require-model-signature makes it mandatory.
import { provenanceLocations } from '../../layout/index.ts';
import { verifyModelSignature, type Measured } from '../../model-signing/index.ts';
import type { Storage } from '../../storage/index.ts';
import type { Check, SignatureVerifier, VerificationResult } from '../../verify/index.ts';
import { readIfPresent, readNamedFile } from '../provenance-source.ts';

export interface ModelSignatureReport {
  /** Where the signature was read from; undefined when none was found. */
  readonly signature?: string;
  /** Where it was looked for, when none was found. */
  readonly searched?: string;
  /** Undefined when none was found and none was required: nothing to say. */
  readonly result?: VerificationResult;
}

export interface ModelSignatureInput {
  readonly storage: Storage;
  readonly modelUri: string;
  /** --model-signature. */
  readonly explicit?: string;
  readonly cwd: string;
  readonly required: boolean;
  readonly trust: SignatureVerifier;
  readonly measure: () => Promise<Measured>;
}

export async function checkModelSignature(input: ModelSignatureInput): Promise<ModelSignatureReport> {
  const found = await findModelSignature(input);
  if ('searched' in found) {
    if (!input.required) return { searched: found.searched };
    const reason = `no model signature next to the model: looked for ${found.searched} (--require-model-signature)`;
    const missing: Check = { name: 'modelSignature', ok: false, code: 'MODEL_SIGNATURE_NOT_FOUND', reason };
    return { searched: found.searched, result: { ok: false, checks: [missing] } };
  }
  const result = await verifyModelSignature({ signature: found.content, trust: input.trust, model: input.measure });
  return { signature: found.uri, result };
}

/** True unless a signature was found, or required, and did not verify. */
export function modelSignatureOk(report: ModelSignatureReport | undefined): boolean {
  return report?.result?.ok ?? true;
}

async function findModelSignature(input: ModelSignatureInput): Promise<{ uri: string; content: Buffer } | { searched: string }> {
  if (input.explicit !== undefined) return readNamedFile(input.storage, input.explicit, input.cwd, '--model-signature');
  const uri = provenanceLocations(input.modelUri).signature;
  const content = await readIfPresent(input.storage, uri);
  return content ? { uri, content } : { searched: uri };
}
