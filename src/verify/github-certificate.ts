// The GitHub Actions facts Fulcio writes into a keyless certificate (the CI extensions every
// provider shares, ci-certificate.ts), read only when GitHub's issuer vouched for them.
import type { Bundle } from '@sigstore/bundle';

import { ciCertificateFields, type CiCertificateFields } from './ci-certificate.ts';

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

const GITHUB_FIELDS = [
  'buildSignerURI', 'buildSignerDigest', 'runnerEnvironment', 'sourceRepositoryURI', 'sourceRepositoryDigest', 'sourceRepositoryRef',
  'sourceRepositoryIdentifier', 'sourceRepositoryOwnerIdentifier', 'buildConfigURI', 'buildConfigDigest', 'buildTrigger', 'runInvocationURI',
] as const;

/**
 * What the certificate says about the workflow run that asked for it: buildSignerURI is
 * `https://github.com/` + job_workflow_ref, sourceRepositoryURI `https://github.com/<owner>/<repo>`,
 * buildConfigURI `https://github.com/` + workflow_ref, runInvocationURI
 * `https://github.com/<owner>/<repo>/actions/runs/<id>/attempts/<n>`.
 */
export type GithubCertificateFields = Pick<CiCertificateFields, (typeof GITHUB_FIELDS)[number]>;

/**
 * The GitHub fields of the bundle's signing certificate (possibly none: the certificate check
 * then says which are missing); undefined when its issuer is not GitHub's (other CI providers
 * put their own facts under the same OIDs).
 */
export function githubCertificateFields(bundle: Bundle, issuer: string | undefined): GithubCertificateFields | undefined {
  if (!isGithubIssuer(issuer)) return undefined;
  return ciCertificateFields(bundle, GITHUB_FIELDS);
}

// GitHub Enterprise Cloud tenants with a custom issuer get https://token.actions.githubusercontent.com/<enterprise>.
export function isGithubIssuer(issuer: string | undefined): boolean {
  return issuer === GITHUB_ACTIONS_ISSUER || (issuer?.startsWith(`${GITHUB_ACTIONS_ISSUER}/`) ?? false);
}
