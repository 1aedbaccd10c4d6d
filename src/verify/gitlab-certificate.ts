// The GitLab CI/CD facts Fulcio's gitlab-pipeline provider writes into a keyless certificate
// (the CI extensions every provider shares, ci-certificate.ts), from the job's ID token:
// Build Signer URI https://<ci_config_ref_uri> (also the SAN), Source Repository URI
// <url>/<project_path>, Source Repository Ref refs/heads|tags/<ref>, Runner Environment
// gitlab-hosted or self-hosted, Run Invocation URI <url>/<project_path>/-/jobs/<job_id>.
import type { Bundle } from '@sigstore/bundle';

import { ciCertificateFields, type CiCertificateFields } from './ci-certificate.ts';
import { isGithubIssuer } from './github-certificate.ts';

export const GITLAB_ISSUER = 'https://gitlab.com';

const GITLAB_FIELDS = [
  'buildSignerURI', 'buildSignerDigest', 'runnerEnvironment', 'sourceRepositoryURI', 'sourceRepositoryDigest', 'sourceRepositoryRef',
  'sourceRepositoryIdentifier', 'sourceRepositoryOwnerURI', 'sourceRepositoryOwnerIdentifier', 'buildConfigURI', 'buildConfigDigest',
  'buildTrigger', 'runInvocationURI', 'sourceRepositoryVisibilityAtSigning',
] as const;

export type GitlabCertificateFields = Pick<CiCertificateFields, (typeof GITLAB_FIELDS)[number]>;

/** A job URL as gitlab-pipeline's run-invocation-uri template forms it. */
const GITLAB_JOB_URI = /^https?:\/\/[^/]+\/.+\/-\/jobs\/\d+$/;

/**
 * The GitLab fields of the bundle's signing certificate; undefined when the certificate is not
 * one Fulcio issued for a GitLab job. Self-managed instances have issuers of their own, so a
 * certificate is GitLab's by the shape of what Fulcio wrote, not by a list of issuers.
 */
export function gitlabCertificateFields(bundle: Bundle, issuer: string | undefined): GitlabCertificateFields | undefined {
  if (issuer === undefined || isGithubIssuer(issuer)) return undefined;
  const fields = ciCertificateFields(bundle, GITLAB_FIELDS);
  return fields?.runInvocationURI !== undefined && GITLAB_JOB_URI.test(fields.runInvocationURI) ? fields : undefined;
}

/** group/project from a Source Repository URI (its host is the issuer's, which the user pinned). */
export function projectPathOf(sourceRepositoryURI: string | undefined): string | undefined {
  if (sourceRepositoryURI === undefined) return undefined;
  const match = /^https?:\/\/[^/]+\/(.+?)\/*$/.exec(sourceRepositoryURI);
  return match?.[1];
}
