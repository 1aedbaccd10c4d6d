// The verdict: one named check per step, each failure with a code a program can branch on and a
// reason a person can read.
import type { GithubCertificateFields } from './github-certificate.ts';
import type { GitlabCertificateFields } from './gitlab-certificate.ts';
import type { InTotoStatement } from './statement.ts';

/** A passed check may carry a warning: nothing failed, but a person should look (verify prints WARN). */
export type CheckOutcome = { readonly ok: true; readonly detail?: string; readonly warning?: string } | { readonly ok: false; readonly code: string; readonly reason: string };

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly code?: string;
  readonly reason?: string;
  readonly detail?: string;
  readonly warning?: string;
}

/** Who produced the verified signature. */
export type SignerIdentity =
  | { readonly kind: 'key'; readonly fingerprint: string }
  | {
      readonly kind: 'certificate';
      readonly subjectAlternativeName?: string;
      readonly issuer?: string;
      /** Present when a GitHub Actions token got the certificate. */
      readonly github?: GithubCertificateFields;
      /** Present when a GitLab CI job's ID token got the certificate. */
      readonly gitlab?: GitlabCertificateFields;
    };

export interface VerificationResult {
  /** True only when every check passed. */
  readonly ok: boolean;
  readonly checks: ReadonlyArray<Check>;
  /** The statement, present once its signature verified (even if a later check failed). */
  readonly statement?: InTotoStatement;
  readonly signer?: SignerIdentity;
}

export function passed(detail?: string): CheckOutcome {
  return detail === undefined ? { ok: true } : { ok: true, detail };
}

export function warned(warning: string): CheckOutcome {
  return { ok: true, warning };
}

export function failed(code: string, reason: string): CheckOutcome {
  return { ok: false, code, reason };
}

export function toCheck(name: string, outcome: CheckOutcome): Check {
  return { name, ...outcome };
}
