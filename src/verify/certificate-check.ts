// A GitHub Actions statement states its own builder, workflow, source and run; a Fulcio
// certificate obtained with the run's OIDC token records the same facts, vouched for by GitHub.
// Trusting the signer's identity trusts the statement only if the two agree, so every fact the
// certificate carries must match the statement's. A key-signed statement has no certificate: its
// facts rest on the key holder's word, which the user chose to trust.
import type { GithubCertificateFields } from './github-certificate.ts';
import { GITHUB_BUILD_TYPE, githubStatementClaims, type GithubStatementClaims } from './github-statement.ts';
import { failed, passed, type CheckOutcome, type SignerIdentity } from './result.ts';
import type { StatementCheck } from './statement-checks.ts';

interface Comparison {
  /** Where the statement holds the fact. */
  readonly field: string;
  readonly stated: string | undefined;
  readonly certificateField: string;
  readonly certified: string | undefined;
  readonly ignoreCase?: boolean;
}

const REQUIRED: ReadonlyArray<keyof GithubCertificateFields> = [
  'buildSignerURI', 'sourceRepositoryURI', 'sourceRepositoryRef', 'sourceRepositoryDigest', 'runInvocationURI',
];

export function certificateCheck(signer: SignerIdentity | undefined): StatementCheck {
  return { name: 'certificate', evaluate: (statement) => agreement(githubStatementClaims(statement), signer) };
}

function agreement(claims: GithubStatementClaims, signer: SignerIdentity | undefined): CheckOutcome {
  if (signer?.kind === 'key') return passed('signed by a key, not by a GitHub Actions certificate: the run is as the key holder states it');
  if (signer?.kind !== 'certificate' || !signer.github) return passed('the signer has no GitHub Actions certificate fields to compare the run with');
  // A certificate issued to a workflow run vouches only for statements that describe that run.
  if (claims.buildType !== GITHUB_BUILD_TYPE) {
    return failed('CERTIFICATE_MISMATCH', `the certificate was issued to a GitHub Actions run, but the statement's buildType is ${claims.buildType ?? 'missing'}, not ${GITHUB_BUILD_TYPE}`);
  }
  // Fulcio writes these for every GitHub Actions token; a certificate without them says nothing
  // about the run, so there is nothing to bind the statement to.
  const missing = REQUIRED.filter((field) => signer.github?.[field] === undefined);
  if (missing.length > 0) return failed('CERTIFICATE_INCOMPLETE', `the GitHub Actions certificate lacks ${missing.join(', ')}`);
  const comparisons = compare(claims, signer.github);
  const vouched = comparisons.filter((c) => c.certified !== undefined);
  const disagreeing = vouched.filter((c) => !same(c));
  if (disagreeing.length > 0) return failed('CERTIFICATE_MISMATCH', disagreeing.map(describe).join('; '));
  const absent = [...new Set(comparisons.filter((c) => c.certified === undefined).map((c) => c.certificateField))];
  const note = absent.length > 0 ? ` (the certificate has no ${absent.join(', ')})` : '';
  return passed(`builder, workflow, source, run and trigger agree with the certificate${note}`);
}

function compare(claims: GithubStatementClaims, cert: GithubCertificateFields): Comparison[] {
  const { workflow, source } = claims;
  const workflowUri = workflow.repository && workflow.path && workflow.ref ? `${workflow.repository}/${workflow.path}@${workflow.ref}` : undefined;
  return [
    { field: 'runDetails.builder.id', stated: claims.builderId, certificateField: 'Build Signer URI', certified: cert.buildSignerURI },
    { field: 'externalParameters.workflow.repository', stated: workflow.repository, certificateField: 'Source Repository URI', certified: cert.sourceRepositoryURI },
    { field: 'externalParameters.workflow.ref', stated: workflow.ref, certificateField: 'Source Repository Ref', certified: cert.sourceRepositoryRef },
    { field: 'externalParameters.workflow', stated: workflowUri, certificateField: 'Build Config URI', certified: cert.buildConfigURI },
    { field: 'the source dependency\'s repository', stated: source?.repository, certificateField: 'Source Repository URI', certified: cert.sourceRepositoryURI },
    { field: 'the source dependency\'s ref', stated: source?.ref, certificateField: 'Source Repository Ref', certified: cert.sourceRepositoryRef },
    { field: 'the source dependency\'s digest.gitCommit', stated: source?.commit, certificateField: 'Source Repository Digest', certified: cert.sourceRepositoryDigest, ignoreCase: true },
    { field: 'runDetails.metadata.invocationId', stated: claims.invocationId, certificateField: 'Run Invocation URI', certified: cert.runInvocationURI },
    { field: 'internalParameters.github.event_name', stated: claims.platform.eventName, certificateField: 'Build Trigger', certified: cert.buildTrigger },
    { field: 'internalParameters.github.runner_environment', stated: claims.platform.runnerEnvironment, certificateField: 'Runner Environment', certified: cert.runnerEnvironment },
    { field: 'internalParameters.github.job_workflow_sha', stated: claims.platform.jobWorkflowSha, certificateField: 'Build Signer Digest', certified: cert.buildSignerDigest, ignoreCase: true },
    { field: 'internalParameters.github.repository_id', stated: claims.platform.repositoryId, certificateField: 'Source Repository Identifier', certified: cert.sourceRepositoryIdentifier },
    { field: 'internalParameters.github.repository_owner_id', stated: claims.platform.repositoryOwnerId, certificateField: 'Source Repository Owner Identifier', certified: cert.sourceRepositoryOwnerIdentifier },
  ];
}

function same(c: Comparison): boolean {
  if (c.stated === undefined || c.certified === undefined) return false;
  return c.ignoreCase ? c.stated.toLowerCase() === c.certified.toLowerCase() : c.stated === c.certified;
}

function describe(c: Comparison): string {
  const stated = c.stated === undefined ? 'is missing' : `is ${c.stated}`;
  return `${c.field} ${stated}, but the certificate's ${c.certificateField} is ${c.certified ?? '?'}`;
}
