// What a verified summary says, read once from the untrusted JSON into our own type; a field of
// the wrong shape reads as absent, and the check that needs it says so.
import type { InTotoStatement } from '../verify/index.ts';

export interface SummaryFacts {
  readonly verifierId?: string;
  readonly timeVerified?: string;
  readonly resourceUri?: string;
  readonly policy: { readonly uri?: string; readonly sha256?: string };
  readonly inputAttestations: ReadonlyArray<{ readonly uri?: string; readonly sha256?: string }>;
  readonly verificationResult?: string;
  readonly verifiedLevels: readonly string[];
  /** The sha256 digests of the subjects. */
  readonly subjects: readonly string[];
}

export function summaryFacts(statement: InTotoStatement): SummaryFacts {
  const p = statement.predicate;
  const policy = record(p.policy);
  return {
    ...optional('verifierId', string(record(p.verifier).id)),
    ...optional('timeVerified', string(p.timeVerified)),
    ...optional('resourceUri', string(p.resourceUri)),
    policy: { ...optional('uri', string(policy.uri)), ...optional('sha256', string(record(policy.digest).sha256)) },
    inputAttestations: (Array.isArray(p.inputAttestations) ? p.inputAttestations : []).map((a: unknown) => {
      const item = record(a);
      return { ...optional('uri', string(item.uri)), ...optional('sha256', string(record(item.digest).sha256)) };
    }),
    ...optional('verificationResult', string(p.verificationResult)),
    verifiedLevels: (Array.isArray(p.verifiedLevels) ? p.verifiedLevels : []).filter((l: unknown): l is string => typeof l === 'string'),
    subjects: statement.subject.flatMap((s) => (typeof s.digest.sha256 === 'string' ? [s.digest.sha256.toLowerCase()] : [])),
  };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function string(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return (value === undefined ? {} : { [key]: value }) as Partial<Record<K, string>>;
}
