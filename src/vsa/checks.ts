// The checks a summary must pass once its signature holds, each under its own name and code: it is
// a summary (predicate type), of this model (resourceUri, subject), for this policy (its digest),
// with a PASSED result, by the expected verifier, recent enough. Who calls decides which apply:
// a consumer all of them, the operator adopting its own object only model and policy.
import { formatDuration } from '../policy/index.ts';
import { failed, passed, type ArtifactSource, type CheckOutcome, type StatementCheck } from '../verify/index.ts';
import { STATEMENT_TYPE_V1, VSA_PREDICATE_TYPE } from './constants.ts';
import { summaryFacts } from './facts.ts';

// Clocks of the verifier and the operator differ a little; a time this far ahead is still "now".
const CLOCK_SKEW_MS = 5 * 60_000;

export const statementTypeCheck: StatementCheck = {
  name: 'statementType',
  evaluate: (s) => (s._type === STATEMENT_TYPE_V1 ? passed() : failed('STATEMENT_TYPE', `_type is ${JSON.stringify(s._type)}, want ${STATEMENT_TYPE_V1}`)),
};

export const predicateTypeCheck: StatementCheck = {
  name: 'predicateType',
  evaluate: (s) => (s.predicateType === VSA_PREDICATE_TYPE
    ? passed()
    : failed('PREDICATE_TYPE', `predicateType is ${JSON.stringify(s.predicateType)}, want ${VSA_PREDICATE_TYPE} (a verification summary)`)),
};

function trimSlash(uri: string): string {
  return uri.replace(/\/+$/, '');
}

export function resourceUriCheck(modelUri: string): StatementCheck {
  return {
    name: 'resourceUri',
    evaluate: (s) => {
      const got = summaryFacts(s).resourceUri;
      if (got === undefined) return failed('RESOURCE_MISSING', 'the summary names no resourceUri');
      return trimSlash(got) === trimSlash(modelUri) ? passed(got) : failed('RESOURCE_MISMATCH', `the summary is for ${got}, not ${modelUri}`);
    },
  };
}

export function policyCheck(digest: string): StatementCheck {
  return {
    name: 'policy',
    evaluate: (s) => {
      const { policy } = summaryFacts(s);
      if (policy.sha256 === undefined) return failed('POLICY_MISSING', 'the summary names no policy digest (policy.digest.sha256)');
      if (policy.sha256.toLowerCase() !== digest) return failed('POLICY_MISMATCH', `the summary is for policy sha256:${policy.sha256}${policy.uri ? ` (${policy.uri})` : ''}, not sha256:${digest}`);
      return passed(`sha256:${digest}${policy.uri ? ` (${policy.uri})` : ''}`);
    },
  };
}

export const resultCheck: StatementCheck = {
  name: 'verificationResult',
  evaluate: (s) => {
    const { verificationResult: result, verifiedLevels } = summaryFacts(s);
    if (result === 'PASSED') return passed(['PASSED', ...verifiedLevels].join(' '));
    if (result === 'FAILED') return failed('SUMMARY_FAILED', 'the model failed this policy when it was verified (verificationResult FAILED)');
    return failed('RESULT_INVALID', `verificationResult is ${JSON.stringify(result ?? null)}, want PASSED`);
  },
};

export function verifierIdCheck(want: string): StatementCheck {
  return {
    name: 'verifierId',
    evaluate: (s) => {
      const got = summaryFacts(s).verifierId;
      if (got === undefined) return failed('VERIFIER_MISSING', 'the summary names no verifier (verifier.id)');
      return got === want ? passed(got) : failed('VERIFIER_MISMATCH', `verified by ${got}, want ${want}`);
    },
  };
}

export function timeVerifiedCheck(maxAgeMs: number, now: () => Date): StatementCheck {
  return {
    name: 'maxAge',
    evaluate: (s) => {
      const when = summaryFacts(s).timeVerified;
      if (when === undefined) return failed('TIME_VERIFIED_MISSING', 'the summary has no timeVerified');
      const at = Date.parse(when);
      if (Number.isNaN(at)) return failed('TIME_VERIFIED_INVALID', `timeVerified ${JSON.stringify(when)} is not a timestamp`);
      const age = now().getTime() - at;
      if (age < -CLOCK_SKEW_MS) return failed('TIME_VERIFIED_IN_FUTURE', `verified ${when}, ${formatDuration(age)} in the future`);
      return age <= maxAgeMs
        ? passed(`verified ${when} (${formatDuration(Math.max(age, 0))} ago)`)
        : failed('TOO_OLD', `verified ${when}, ${formatDuration(age)} ago; the limit is ${formatDuration(maxAgeMs)}`);
    },
  };
}

/**
 * `artifact`: the model's digest measured now (or how to measure it). Undefined: the model is not
 * read and the summary's own subject digest is taken as the model's — said in the detail.
 */
export function subjectCheck(artifact: ArtifactSource | undefined): StatementCheck {
  return {
    name: 'subject',
    evaluate: async (s) => {
      const subjects = summaryFacts(s).subjects;
      if (subjects.length === 0) return failed('SUBJECT_MISSING', 'the summary has no subject with a sha256 digest');
      if (artifact === undefined) return passed(`sha256:${subjects.join(', sha256:')} taken from the summary: the model was not read`);
      return measuredOutcome(artifact, subjects);
    },
  };
}

async function measuredOutcome(artifact: ArtifactSource, subjects: readonly string[]): Promise<CheckOutcome> {
  let sha256: string;
  try {
    sha256 = (typeof artifact === 'function' ? await artifact() : artifact).sha256.toLowerCase();
  } catch (err) {
    return failed('DIGEST_UNAVAILABLE', `could not measure the model: ${(err as Error).message}`);
  }
  return subjects.includes(sha256)
    ? passed(`sha256:${sha256} measured, as the summary says`)
    : failed('SUBJECT_MISMATCH', `the model's bytes are sha256:${sha256}; the summary is for sha256:${subjects.join(', sha256:')}`);
}
