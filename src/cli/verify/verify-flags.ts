// The flags verify and pull share — whom to trust, the policy, where the provenance and model
// signature are, storage — and what they choose, parsed in the order verify always used: policy
// (usage errors), trust (reads key files), storage.
import { policyChecks } from '../../policy/index.ts';
import type { Storage } from '../../storage/index.ts';
import type { SignatureVerifier, StatementCheck } from '../../verify/index.ts';
import type { FlagSpecs, ParsedFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { readPolicyFile } from '../policy-file.ts';
import { POLICY_FLAGS, policyFromFlags } from '../policy-flags.ts';
import { STORAGE_FLAGS, storageFromFlags } from '../storage-flags.ts';
import { TRUST_FLAGS, verifierFromFlags } from '../trust-flags.ts';
import type { TargetOptions } from './verify-target.ts';

export const VERIFY_FLAGS: FlagSpecs = {
  ...TRUST_FLAGS,
  ...POLICY_FLAGS,
  ...STORAGE_FLAGS,
  provenance: { type: 'string' },
  'model-signature': { type: 'string' },
  'require-model-signature': { type: 'boolean' },
  strict: { type: 'boolean' },
};

export const TARGET_HELP = `  --provenance PATH|URI         the provenance file (a Sigstore bundle or a DSSE envelope)
  --model-signature PATH|URI    the model-signing signature (default MODEL.sig, checked if present)
  --require-model-signature     fail unless a model-signing signature is present and verifies
  --strict                      fail when the subject with the model's bytes names another path
                                (a genuine provenance copied next to a copy of the model); a warning
                                otherwise`;

export interface Verification {
  readonly policies: StatementCheck[];
  readonly verifier: SignatureVerifier;
  readonly storage: Storage;
  readonly options: TargetOptions;
}

export async function verificationFromFlags(flags: ParsedFlags, io: CliIo): Promise<Verification> {
  const path = flags.strings.get('policy');
  const policyFile = path === undefined ? undefined : await readPolicyFile(path, io);
  const policy = policyFromFlags(flags, io, policyFile?.rules);
  const verifier = await verifierFromFlags(flags, io);
  const storage = storageFromFlags(flags, io);
  const options: TargetOptions = {
    provenance: flags.strings.get('provenance'),
    modelSignature: flags.strings.get('model-signature'),
    requireModelSignature: policy.requireModelSignature === true,
    strict: flags.booleans.has('strict'),
  };
  return { policies: policyChecks(policy), verifier, storage, options };
}
