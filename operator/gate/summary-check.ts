// The gate's question for one gs:// model: does a summary for the platform's policy stand beside
// it, signed by the platform's key (the operator's), for this very model URI and policy, PASSED,
// recent enough? The model itself is not read (it may be many GB; the storage initializer hashes
// it anyway when the Pod starts), so the summary's digest is trusted here — which is why only the
// operator, never anything in a deployer's namespace, signs summaries.
import type { PolicyDocument } from '../../src/policy/index.ts';
import { summaryLocation } from '../../src/layout/index.ts';
import { StorageError, type Storage } from '../../src/storage/index.ts';
import type { SignatureVerifier } from '../../src/verify/index.ts';
import { policyCheck, resourceUriCheck, resultCheck, timeVerifiedCheck, verifierIdCheck, verifySummary } from '../../src/vsa/index.ts';
import type { SummaryCheck } from './decide.ts';

export interface SummaryCheckOptions {
  readonly storage: Storage;
  readonly trust: SignatureVerifier;
  readonly policy: PolicyDocument;
  readonly verifierId?: string;
  readonly maxAgeMs?: number;
  readonly now?: () => Date;
}

/** A summary is a small JSON document; anything larger is not one of ours. */
const MAX_SUMMARY_BYTES = 1024 * 1024;

export function summaryCheck(options: SummaryCheckOptions): SummaryCheck {
  const now = options.now ?? (() => new Date());
  return async (uri) => {
    const location = summaryLocation(uri, options.policy.digest);
    let summary: Buffer;
    try {
      summary = await options.storage.read(location, MAX_SUMMARY_BYTES);
    } catch (err) {
      if (err instanceof StorageError && err.code === 'NOT_FOUND') return { ok: false, reason: `no verification summary for policy ${policyName(options.policy)} (${location} does not exist)` };
      throw err;
    }
    const checks = [
      resourceUriCheck(uri),
      policyCheck(options.policy.digest),
      resultCheck,
      ...(options.verifierId === undefined ? [] : [verifierIdCheck(options.verifierId)]),
      ...(options.maxAgeMs === undefined ? [] : [timeVerifiedCheck(options.maxAgeMs, now)]),
    ];
    const result = await verifySummary({ summary, trust: options.trust, checks });
    if (result.ok) return { ok: true };
    const failed = result.checks.find((c) => !c.ok);
    return { ok: false, reason: `the verification summary ${location} fails ${failed?.name ?? 'verification'}: ${failed && !failed.ok ? `${failed.reason} [${failed.code}]` : 'not verified'}` };
  };
}

function policyName(policy: PolicyDocument): string {
  return policy.name === undefined ? `sha256:${policy.digest.slice(0, 16)}` : `${policy.name} (sha256:${policy.digest.slice(0, 16)})`;
}
