// verify --vsa: finds the model's verification summary for the policy (MODEL.vsa-<digest16>.sigstore.json,
// or the --vsa-file), and checks it: signed by whom the user trusts, a summary of this model's URI,
// for this policy's digest, PASSED, by the expected verifier, recent enough — and, unless
// --no-download, the model's bytes measured now are its subject.
import type { ModelDigest } from '../../digest/index.ts';
import { summaryLocation } from '../../layout/index.ts';
import type { PolicyDocument } from '../../policy/index.ts';
import type { Storage } from '../../storage/index.ts';
import type { SignatureVerifier, StatementCheck, VerificationResult } from '../../verify/index.ts';
import { policyCheck, resourceUriCheck, resultCheck, timeVerifiedCheck, verifierIdCheck, verifySummary } from '../../vsa/index.ts';
import type { ModelTarget } from '../model-target.ts';
import { readIfPresent, readNamedFile } from '../provenance-source.ts';
import type { SummaryOptions } from './summary-flags.ts';

export interface SummaryReport {
  readonly model: string;
  /** Where the summary was read from; undefined when none was found. */
  readonly summary?: string;
  readonly policy: PolicyDocument;
  /** The model was measured (not --no-download). */
  readonly measured: boolean;
  readonly result: VerificationResult;
}

export interface SummaryCheck {
  readonly storage: Storage;
  readonly model: ModelTarget;
  readonly trust: SignatureVerifier;
  readonly policy: PolicyDocument;
  readonly options: SummaryOptions;
  readonly measure: () => Promise<ModelDigest>;
  readonly cwd: string;
  readonly now: () => Date;
}

export async function verifySummaryTarget(input: SummaryCheck): Promise<SummaryReport> {
  const { model, policy, options } = input;
  const base = { model: model.uri, policy, measured: options.download };
  const found = await findSummary(input);
  if ('searched' in found) {
    const reason = `no verification summary for this policy next to the model: looked for ${found.searched}`;
    return { ...base, result: { ok: false, checks: [{ name: 'summary', ok: false, code: 'SUMMARY_NOT_FOUND', reason }] } };
  }
  const checks: StatementCheck[] = [
    resourceUriCheck(model.uri),
    policyCheck(policy.digest),
    resultCheck,
    ...(options.verifierId === undefined ? [] : [verifierIdCheck(options.verifierId)]),
    ...(options.maxAgeMs === undefined ? [] : [timeVerifiedCheck(options.maxAgeMs, input.now)]),
  ];
  const result = await verifySummary({ summary: found.content, trust: input.trust, checks, ...(options.download ? { artifact: input.measure } : {}) });
  return { ...base, summary: found.uri, result };
}

async function findSummary(input: SummaryCheck): Promise<{ uri: string; content: Buffer } | { searched: string }> {
  if (input.options.file !== undefined) return readNamedFile(input.storage, input.options.file, input.cwd, '--vsa-file');
  const uri = summaryLocation(input.model.uri, input.policy.digest);
  const content = await readIfPresent(input.storage, uri);
  return content ? { uri, content } : { searched: uri };
}
