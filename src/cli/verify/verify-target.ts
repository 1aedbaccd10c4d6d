// The verification verify and pull share: find the model's provenance, check it (signature,
// subject, files, policy) and the model's OpenSSF model signature against one measurement. How the
// model is measured is the caller's: verify reads it where it lies, pull hashes the bytes it
// writes, and both hand in the same lazy `measure`, called only once a signature verified.
import type { ModelDigest } from '../../digest/index.ts';
import { modelFilesCheck } from '../../policy/index.ts';
import type { Storage } from '../../storage/index.ts';
import { verifyProvenance, type SignatureVerifier, type StatementCheck, type VerificationResult } from '../../verify/index.ts';
import type { ModelTarget } from '../model-target.ts';
import { findProvenance } from '../provenance-source.ts';
import { checkModelSignature, type ModelSignatureReport } from './model-signature.ts';
import type { VerifyReport } from './report.ts';
import { subjectNameCheck } from './subject-name.ts';

/** What the verify flags choose besides trust and policy. */
export interface TargetOptions {
  /** --provenance: the provenance file instead of the model's siblings. */
  readonly provenance?: string;
  /** --model-signature: the model signature instead of MODEL.sig. */
  readonly modelSignature?: string;
  readonly requireModelSignature: boolean;
  /** A subject naming another path fails (SUBJECT_NAME_MISMATCH) instead of warning. */
  readonly strict: boolean;
}

export interface TargetCheck {
  readonly storage: Storage;
  readonly model: ModelTarget;
  readonly trust: SignatureVerifier;
  readonly policies: readonly StatementCheck[];
  /** The model's digest, measured once on first call (memoised by the caller). */
  readonly measure: () => Promise<ModelDigest>;
  readonly options: TargetOptions;
  readonly cwd: string;
}

export async function verifyTarget(input: TargetCheck): Promise<VerifyReport> {
  const { model, options } = input;
  const source = await findProvenance(input.storage, model.uri, options.provenance, input.cwd);
  const modelSignature = (): Promise<ModelSignatureReport> => checkModelSignature({
    storage: input.storage, modelUri: model.uri, explicit: options.modelSignature, cwd: input.cwd,
    required: options.requireModelSignature, trust: input.trust, measure: input.measure,
  });
  if (!source.found) {
    const reason = `no provenance next to the model: looked for ${source.searched.join(' and ')}`;
    const result: VerificationResult = { ok: false, checks: [{ name: 'provenance', ok: false, code: 'PROVENANCE_NOT_FOUND', reason }] };
    return { model: model.uri, result, modelSignature: await modelSignature() };
  }
  const result = await verifyProvenance({
    provenance: source.content,
    trust: input.trust,
    artifact: input.measure,
    policies: [subjectNameCheck(model, input.measure, options.strict), ...(model.directory ? [modelFilesCheck(input.measure)] : []), ...input.policies],
  });
  return { model: model.uri, provenance: source.uri, result, modelSignature: await modelSignature() };
}
