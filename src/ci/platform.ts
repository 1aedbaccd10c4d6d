// The seam between `slsa-ml attest-ci` and the CI platforms it runs on (GitLab CI, Google Cloud
// Build): each platform says whether a job runs on it, where its OIDC identity token comes from,
// and how its job becomes a statement of its own buildType. Measuring the model, signing and
// writing the three files are the command's, the same for every platform.
import type { IdentityTokenProvider } from '../signing/sigstore/tokens.ts';
import type { Statement, Subject } from '../provenance/types.ts';
import type { ReportedTraining } from '../provenance/github-run.ts';

/** The job's environment variables (process.env, or a test's). */
export type CiEnv = Readonly<Record<string, string | undefined>>;

export interface CiStatementInput {
  /** The measured model, named by its gs:// URI or by its file/folder name. */
  readonly subjects: Subject[];
  /**
   * The identity token signing keyless (its claims are the platform's word, not the job's);
   * undefined when signing with --key or --kms.
   */
  readonly identityToken: string | undefined;
  /** What the training job reported (frameworks, data set, runner), recorded as reported. */
  readonly reported: ReportedTraining;
  /** e.g. { 'slsa-ml': '0.1.0' } */
  readonly builderVersion: Record<string, string>;
  /** When the provenance step ran (RFC 3339, UTC, seconds). */
  readonly finishedOn: string;
}

export interface CiPlatform {
  /** The value of `attest-ci --platform`. */
  readonly name: 'gitlab' | 'cloud-build';
  /** This job runs on the platform, judged by the variables the platform itself sets. */
  detect(env: CiEnv): boolean;
  /** Keyless signing: the platform's OIDC identity token for audience `sigstore`. */
  identityToken(env: CiEnv): IdentityTokenProvider;
  /** The statement for this job; a missing or malformed variable is an error naming it. */
  statement(env: CiEnv, input: CiStatementInput): Promise<Statement>;
}
