// A GitLab CI statement states its project, ref, commit and job; a Fulcio certificate obtained with
// the job's ID token records the same facts, vouched for by GitLab. Trusting the signer's identity
// trusts the statement only if the two agree, so every fact the certificate carries must match.
// A key-signed statement has no certificate: its facts rest on the key holder's word.
import type { GitlabCertificateFields } from './gitlab-certificate.ts';
import { projectPathOf } from './gitlab-certificate.ts';
import { GITLAB_BUILD_TYPE, gitlabStatementClaims, type GitlabStatementClaims } from './gitlab-statement.ts';
import { failed, passed, warned, type CheckOutcome, type SignerIdentity } from './result.ts';
import type { StatementCheck } from './statement-checks.ts';

interface Comparison {
  readonly field: string;
  readonly stated: string | undefined;
  readonly certificateField: string;
  readonly certified: string | undefined;
  /** What a difference most likely means, for the person reading the failure. */
  readonly meaning?: string;
  readonly ignoreCase?: boolean;
}

const REQUIRED: ReadonlyArray<keyof GitlabCertificateFields> = ['buildSignerURI', 'sourceRepositoryURI', 'sourceRepositoryRef', 'sourceRepositoryDigest', 'runInvocationURI'];

export function gitlabCertificateCheck(signer: SignerIdentity | undefined): StatementCheck {
  return { name: 'certificate', evaluate: (statement) => agreement(gitlabStatementClaims(statement), signer) };
}

function agreement(claims: GitlabStatementClaims, signer: SignerIdentity | undefined): CheckOutcome {
  if (signer?.kind === 'key') {
    const from = claims.factsFrom === 'ci_variables' ? ', recorded from the job\'s own CI variables' : '';
    return passed(`signed by a key, not by a GitLab certificate: the job is as the key holder states it${from}`);
  }
  if (signer?.kind !== 'certificate') return passed('the signer has no GitLab certificate fields to compare the job with');
  // A keyless signer that is not a GitLab job (a service account, a GitHub workflow) vouches for
  // none of the job's facts: trusting its identity must not pass a statement about a GitLab job.
  if (!signer.gitlab) {
    return failed('CERTIFICATE_MISMATCH', `the statement describes a GitLab CI job, but the certificate (${signer.subjectAlternativeName ?? '?'}, issuer ${signer.issuer ?? '?'}) was not issued to one`);
  }
  // A certificate issued to a GitLab job vouches only for statements that describe that job.
  if (claims.buildType !== GITLAB_BUILD_TYPE) {
    return failed('CERTIFICATE_MISMATCH', `the certificate was issued to a GitLab CI job, but the statement's buildType is ${claims.buildType ?? 'missing'}, not ${GITLAB_BUILD_TYPE}`);
  }
  return compared(claims, signer.gitlab, signer.issuer);
}

function compared(claims: GitlabStatementClaims, cert: GitlabCertificateFields, issuer: string | undefined): CheckOutcome {
  const missing = REQUIRED.filter((field) => cert[field] === undefined);
  if (missing.length > 0) return failed('CERTIFICATE_INCOMPLETE', `the GitLab certificate lacks ${missing.join(', ')}`);
  if (issuer === undefined) return failed('CERTIFICATE_INCOMPLETE', 'the GitLab certificate names no OIDC issuer, so the GitLab instance of its job is unknown');
  const disagreeing = compare(claims, cert, issuer).filter((c) => c.certified !== undefined && !same(c));
  if (disagreeing.length > 0) return failed('CERTIFICATE_MISMATCH', disagreeing.map(describe).join('; '));
  const summary = `project ${projectPathOf(cert.sourceRepositoryURI) ?? '?'}, ref ${cert.sourceRepositoryRef ?? '?'}, job ${cert.runInvocationURI ?? '?'} agree with the certificate`;
  if (cert.runnerEnvironment === 'self-hosted') {
    return warned(`${summary}, but the job ran on a self-managed runner (runner_environment self-hosted): whoever runs that machine could change what the job signed`);
  }
  return passed(`${summary} (${cert.runnerEnvironment ?? 'unknown'} runner)`);
}

function compare(claims: GitlabStatementClaims, cert: GitlabCertificateFields, issuer: string | undefined): Comparison[] {
  const { gitlab, source } = claims;
  const fork = 'the certificate was issued to a pipeline of another project, e.g. a fork';
  const otherHost = (stated: string | undefined): string => (stated !== undefined && pathOf(stated) === projectPathOf(cert.sourceRepositoryURI) ? `the statement names another GitLab instance than the issuer ${issuer ?? '?'}` : fork);
  const otherRef = 'the certificate was issued to a pipeline of another ref';
  // Fulcio forms these URLs from its own configured host; the issuer is the instance the user
  // pinned, so the statement's URLs must be on it, and only their paths are compared with the
  // certificate's.
  // An instance under a relative URL root (https://example.com/gitlab) is its issuer; a private
  // Fulcio configured with that URL repeats the root in the certificate's paths.
  const server = issuer?.replace(/\/+$/, '');
  const root = server === undefined ? '' : (URL.parse(server)?.pathname ?? '').replace(/^\/+|\/+$/g, '');
  const belowRoot = (path: string | undefined): string | undefined => (root !== '' && path?.startsWith(`${root}/`) ? path.slice(root.length + 1) : path);
  const onServer = (path: string | undefined): string | undefined => (server === undefined || path === undefined ? undefined : `${server}/${belowRoot(path) ?? ''}`);
  const project = onServer(projectPathOf(cert.sourceRepositoryURI));
  const job = onServer(pathOf(cert.runInvocationURI));
  return [
    { field: 'externalParameters.project', stated: trimSlash(claims.project), certificateField: 'Source Repository URI', certified: project, meaning: otherHost(claims.project) },
    { field: 'the source dependency\'s repository', stated: trimSlash(source?.repository), certificateField: 'Source Repository URI', certified: project, meaning: otherHost(source?.repository) },
    { field: 'externalParameters.ref', stated: claims.ref, certificateField: 'Source Repository Ref', certified: cert.sourceRepositoryRef, meaning: otherRef },
    { field: 'the source dependency\'s ref', stated: source?.ref, certificateField: 'Source Repository Ref', certified: cert.sourceRepositoryRef, meaning: otherRef },
    { field: 'the source dependency\'s digest.gitCommit', stated: source?.commit, certificateField: 'Source Repository Digest', certified: cert.sourceRepositoryDigest, ignoreCase: true },
    { field: 'runDetails.builder.id', stated: claims.builderId, certificateField: 'Build Signer URI', certified: cert.buildSignerURI },
    { field: 'externalParameters.config', stated: claims.config, certificateField: 'Build Config URI', certified: cert.buildConfigURI },
    { field: 'runDetails.metadata.invocationId', stated: claims.invocationId, certificateField: 'Run Invocation URI', certified: job },
    { field: 'externalParameters.pipelineSource', stated: claims.pipelineSource, certificateField: 'Build Trigger', certified: cert.buildTrigger },
    { field: 'internalParameters.gitlab.runner_environment', stated: gitlab.runner_environment, certificateField: 'Runner Environment', certified: cert.runnerEnvironment },
    { field: 'internalParameters.gitlab.project_id', stated: gitlab.project_id, certificateField: 'Source Repository Identifier', certified: cert.sourceRepositoryIdentifier, meaning: fork },
    { field: 'internalParameters.gitlab.namespace_id', stated: gitlab.namespace_id, certificateField: 'Source Repository Owner Identifier', certified: cert.sourceRepositoryOwnerIdentifier },
    { field: 'internalParameters.gitlab.ci_config_sha', stated: gitlab.ci_config_sha, certificateField: 'Build Signer Digest', certified: cert.buildSignerDigest, ignoreCase: true },
    { field: 'internalParameters.gitlab.project_visibility', stated: gitlab.project_visibility, certificateField: 'Source Repository Visibility', certified: cert.sourceRepositoryVisibilityAtSigning },
  ];
}

function pathOf(uri: string | undefined): string | undefined {
  return uri === undefined ? undefined : uri.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]+\//i, '').replace(/\/+$/, '');
}

function trimSlash(uri: string | undefined): string | undefined {
  return uri?.replace(/\/+$/, '');
}

function same(c: Comparison): boolean {
  if (c.stated === undefined || c.certified === undefined) return false;
  return c.ignoreCase ? c.stated.toLowerCase() === c.certified.toLowerCase() : c.stated === c.certified;
}

function describe(c: Comparison): string {
  const stated = c.stated === undefined ? 'is missing' : `is ${c.stated}`;
  const meaning = c.meaning && c.stated !== undefined ? ` (${c.meaning})` : '';
  return `${c.field} ${stated}, but the certificate's ${c.certificateField} is ${c.certified ?? '?'}${meaning}`;
}
