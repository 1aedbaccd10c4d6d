// verify --vsa: the flags that check the operator's signed verification summary of a model instead
// of its provenance. The policy is the --policy file as written — the summary names it by digest —
// so the flags that would change it (and those that read provenance) are refused; --max-age here
// is the summary's age. Trust stays on the trust flags: the platform's key or identity.
import { parseDuration, type PolicyDocument } from '../../policy/index.ts';
import type { Storage } from '../../storage/index.ts';
import type { SignatureVerifier } from '../../verify/index.ts';
import { UsageError } from '../errors.ts';
import type { FlagSpecs, ParsedFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { readPolicyFile } from '../policy-file.ts';
import { usage } from '../policy-flags.ts';
import { storageFromFlags } from '../storage-flags.ts';
import { verifierFromFlags } from '../trust-flags.ts';

export const SUMMARY_FLAGS: FlagSpecs = {
  vsa: { type: 'boolean' },
  'vsa-file': { type: 'string' },
  'no-download': { type: 'boolean' },
  'verifier-id': { type: 'string' },
};

export const SUMMARY_HELP = `Verification summary (instead of the provenance):
  --vsa                         verify the signed verification summary (SLSA VSA) the operator wrote
                                for the --policy file, MODEL.vsa-<first 16 hex of the policy
                                digest>.sigstore.json; trust the operator's key or identity with
                                the trust flags
  --vsa-file PATH|URI           the summary file instead (implies --vsa)
  --no-download                 do not read the model: take its digest from the summary (an admission
                                check); without it the model is measured and must match
  --verifier-id URI             the summary's verifier.id must equal URI
  --max-age DURATION            with --vsa: verified (timeVerified) at most this long ago`;

// Flags that change the policy or read provenance: a summary has already judged them.
const NOT_WITH_SUMMARY = ['builder-id', 'source-repo', 'source-ref', 'namespace', 'deny', 'require-model-signature', 'provenance', 'model-signature', 'strict'];

export interface SummaryOptions {
  /** --vsa-file: the summary instead of the one beside the model. */
  readonly file?: string;
  /** Measure the model and compare it with the summary's subject (not with --no-download). */
  readonly download: boolean;
  readonly verifierId?: string;
  readonly maxAgeMs?: number;
}

export interface SummaryVerification {
  readonly policy: PolicyDocument;
  readonly verifier: SignatureVerifier;
  readonly storage: Storage;
  readonly options: SummaryOptions;
}

export function wantsSummary(flags: ParsedFlags): boolean {
  return flags.booleans.has('vsa') || flags.strings.has('vsa-file');
}

/** Without --vsa, its companions mean nothing: refused rather than ignored. */
export function refuseSummaryFlags(flags: ParsedFlags): void {
  for (const flag of ['no-download', 'verifier-id']) {
    if (flags.booleans.has(flag) || flags.strings.has(flag)) throw new UsageError(`--${flag} goes with --vsa (verifying a verification summary)`);
  }
}

export async function summaryVerificationFromFlags(flags: ParsedFlags, io: CliIo): Promise<SummaryVerification> {
  const given = NOT_WITH_SUMMARY.find((f) => flags.strings.has(f) || flags.lists.has(f) || flags.booleans.has(f));
  if (given !== undefined) {
    throw new UsageError(`--${given} cannot be used with --vsa: the summary records the verdict of the --policy file as written, and the provenance is not read`);
  }
  const path = flags.strings.get('policy');
  if (path === undefined) throw new UsageError('--vsa needs --policy FILE: the summary is found and checked by the digest of the policy it was verified against');
  const maxAge = flags.strings.get('max-age');
  const verifierId = flags.strings.get('verifier-id');
  const file = flags.strings.get('vsa-file');
  const options: SummaryOptions = {
    download: !flags.booleans.has('no-download'),
    ...(file === undefined ? {} : { file }),
    ...(verifierId === undefined ? {} : { verifierId }),
    ...(maxAge === undefined ? {} : { maxAgeMs: usage('--max-age', maxAge, parseDuration) }),
  };
  const policy = await readPolicyFile(path, io);
  const verifier = await verifierFromFlags(flags, io);
  return { policy, verifier, storage: storageFromFlags(flags, io), options };
}
