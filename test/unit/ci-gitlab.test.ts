// GitLab CI/CD as attest-ci sees it: a job's ID token claims (or, with a key, its variables)
// become the gitlab-ci statement; verify reads Fulcio's GitLab certificate and compares it with
// the statement.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { Bundle } from '@sigstore/bundle';
import { initializeCA, initializeCTLog } from '@sigstore/mock';

import { decodeClaims, gitlabJobFromClaims } from '../../src/ci/gitlab/claims.ts';
import { gitlabPlatform } from '../../src/ci/gitlab/platform.ts';
import { gitlabJobFromVariables } from '../../src/ci/gitlab/variables.ts';
import { detectedPlatforms } from '../../src/ci/platforms.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { trustFromFlags } from '../../src/cli/trust-flags.ts';
import { buildGitlabStatement } from '../../src/provenance/index.ts';
import { createSigner, signStatement } from '../../src/signing/index.ts';
import { githubCertificateFields } from '../../src/verify/github-certificate.ts';
import { gitlabCertificateFields } from '../../src/verify/gitlab-certificate.ts';
import { gitlabCertificateCheck } from '../../src/verify/gitlab-check.ts';
import { verifyProvenance, type CheckOutcome, type InTotoStatement, type SignerIdentity, type VerificationResult } from '../../src/verify/index.ts';
import { gitlabCertificate, gitlabFulcioHandler } from '../support/fulcio-gitlab.ts';
import { gitlabClaims, startGitlabOidc, type GitlabClaims } from '../support/gitlab-oidc.ts';
import { startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';

const SHA = '1f0a9e3c5b7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f';
const subjects = [{ name: 'pytorch_model.pth', digest: { sha256: 'ab'.repeat(32) } }];
const base = { subjects, reported: { frameworks: ['pkg:pypi/torch@2.10.0'] }, builderVersion: { 'slsa-ml': '0.1.0' }, finishedOn: '2026-01-15T12:00:00Z' };

/** An unsigned JWT: attest-ci reads the claims; Fulcio checks the signature. */
function jwt(claims: object): string {
  const part = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.sig`;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return `${(err as { code?: string }).code ?? ''}: ${(err as Error).message}`;
  }
  return undefined;
}

describe('when a GitLab job\'s ID token describes it', () => {
  it('the statement records project, ref, commit, pipeline and job from the claims, and the image from CI_JOB_IMAGE', () => {
    const job = gitlabJobFromClaims(decodeClaims(jwt(gitlabClaims())), { CI_PROJECT_PATH: 'acme/models', CI_SERVER_URL: 'https://gitlab.com/', CI_JOB_IMAGE: 'ghcr.io/slsa-ml/slsa-ml:0.1.0' });
    const statement = buildGitlabStatement({ ...base, job });
    const { buildDefinition, runDetails } = statement.predicate;
    assert.equal(buildDefinition.buildType, 'https://slsa-ml.dev/buildtypes/gitlab-ci/v1');
    assert.deepEqual(buildDefinition.externalParameters, {
      project: 'https://gitlab.com/acme/models', ref: 'refs/heads/main', pipelineSource: 'push', config: 'https://gitlab.com/acme/models//.gitlab-ci.yml@refs/heads/main',
    });
    assert.deepEqual(buildDefinition.internalParameters, {
      factsFrom: 'id_token',
      gitlab: {
        project_path: 'acme/models', pipeline_id: '987654', pipeline_url: 'https://gitlab.com/acme/models/-/pipelines/987654', job_id: '1234567',
        job_url: 'https://gitlab.com/acme/models/-/jobs/1234567', project_id: '4242', namespace_path: 'acme', namespace_id: '4200', ref_type: 'branch',
        ref_protected: 'true', runner_id: '12270837', runner_environment: 'gitlab-hosted', ci_config_sha: SHA, user_login: 'alice', project_visibility: 'private',
      },
      ciVariables: { CI_JOB_IMAGE: 'ghcr.io/slsa-ml/slsa-ml:0.1.0' },
    });
    assert.deepEqual(buildDefinition.resolvedDependencies, [
      { name: 'source', uri: 'git+https://gitlab.com/acme/models@refs/heads/main', digest: { gitCommit: SHA } },
      { uri: 'pkg:pypi/torch@2.10.0', annotations: { tenantReported: true } },
    ]);
    assert.deepEqual(runDetails.builder, { id: 'https://gitlab.com/acme/models//.gitlab-ci.yml@refs/heads/main', version: { 'slsa-ml': '0.1.0' } });
    assert.equal(runDetails.metadata?.invocationId, 'https://gitlab.com/acme/models/-/jobs/1234567');
  });

  it('a tag pipeline records refs/tags/<tag>, as Fulcio does', () => {
    const job = gitlabJobFromClaims(decodeClaims(jwt(gitlabClaims({ ref: 'v1.2.0', ref_type: 'tag' }))), {});
    assert.equal(job.ref, 'refs/tags/v1.2.0');
  });

  it('refuses a CI_* variable that contradicts its claim, a missing claim and another audience, naming them', () => {
    const claims = decodeClaims(jwt(gitlabClaims()));
    assert.equal(codeOf(() => gitlabJobFromClaims(claims, { CI_COMMIT_SHA: 'f'.repeat(40) })), `ENVIRONMENT_MISMATCH: CI_COMMIT_SHA=${'f'.repeat(40)} but the ID token's sha claim is ${SHA}`);
    assert.equal(codeOf(() => gitlabJobFromClaims(claims, { CI_SERVER_URL: 'https://gitlab.example.com' })), 'ENVIRONMENT_MISMATCH: CI_SERVER_URL=https://gitlab.example.com but the ID token\'s iss claim is https://gitlab.com');
    const old: Record<string, unknown> = { ...gitlabClaims() };
    delete old.ci_config_ref_uri;
    // GitLab leaves the claim out when the CI config comes from another project: say so.
    assert.equal(codeOf(() => gitlabJobFromClaims(decodeClaims(jwt(old)), {})), 'OIDC_TOKEN_INVALID: the ID token has no ci_config_ref_uri claim: the CI config must live in this project\'s repository (GitLab sets ci_config_ref_uri only then), or GitLab is older than 16.2');
    assert.match(codeOf(() => gitlabJobFromClaims(decodeClaims(jwt({ ...gitlabClaims(), aud: 'vault' })), {})) ?? '', /^OIDC_TOKEN_INVALID: the ID token's audience is "vault", not "sigstore"/);
    assert.match(codeOf(() => decodeClaims('not-a-jwt')) ?? '', /^OIDC_TOKEN_INVALID/);
  });

  it('is detected by GITLAB_CI, and its token comes from SIGSTORE_ID_TOKEN or a clear error', async () => {
    assert.deepEqual(detectedPlatforms({ GITLAB_CI: 'true' }).map((p) => p.name), ['gitlab']);
    assert.deepEqual(detectedPlatforms({}).map((p) => p.name), []);
    assert.equal(await gitlabPlatform.identityToken({ SIGSTORE_ID_TOKEN: ' t0ken\n' })(), 't0ken');
    await assert.rejects(gitlabPlatform.identityToken({})(), { code: 'OIDC_TOKEN_MISSING', message: /SIGSTORE_ID_TOKEN is not set: the job needs id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore/ });
  });
});

describe('when the job signs with a key (no ID token)', () => {
  const env = {
    GITLAB_CI: 'true', CI_SERVER_URL: 'https://gitlab.example.com', CI_SERVER_HOST: 'gitlab.example.com', CI_PROJECT_PATH: 'ml/models', CI_COMMIT_REF_NAME: 'v2',
    CI_COMMIT_TAG: 'v2', CI_COMMIT_SHA: SHA, CI_PIPELINE_ID: '5', CI_PIPELINE_SOURCE: 'web', CI_JOB_ID: '6', CI_CONFIG_PATH: 'ci/train.yml',
  };

  it('the facts come from the CI variables and the statement says so', async () => {
    const statement = await gitlabPlatform.statement(env, { ...base, identityToken: undefined });
    const internal = statement.predicate.buildDefinition.internalParameters as { factsFrom: string };
    assert.equal(internal.factsFrom, 'ci_variables');
    assert.equal(statement.predicate.runDetails.builder.id, 'https://gitlab.example.com/ml/models//ci/train.yml@refs/tags/v2');
    assert.deepEqual(statement.predicate.buildDefinition.externalParameters.ref, 'refs/tags/v2');
  });

  it('names the instance by CI_SERVER_FQDN, port included, as GitLab\'s ci_config_ref_uri does', async () => {
    const statement = await gitlabPlatform.statement({ ...env, CI_SERVER_URL: 'https://gitlab.example.com:8443', CI_SERVER_FQDN: 'gitlab.example.com:8443' }, { ...base, identityToken: undefined });
    assert.equal(statement.predicate.runDetails.builder.id, 'https://gitlab.example.com:8443/ml/models//ci/train.yml@refs/tags/v2');
    assert.equal(statement.predicate.buildDefinition.externalParameters.config, 'https://gitlab.example.com:8443/ml/models//ci/train.yml@refs/tags/v2');
  });

  it('a missing variable is named', () => {
    const without: Record<string, string> = { ...env };
    delete without.CI_JOB_ID;
    assert.equal(codeOf(() => gitlabJobFromVariables(without)), 'VARIABLE_MISSING: CI_JOB_ID is not set: run attest-ci in a GitLab CI/CD job');
  });
});

async function bundleWith(claims: Record<string, unknown>): Promise<Bundle> {
  const ca = await initializeCA(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), await initializeCTLog(generateKeyPairSync('ec', { namedCurve: 'prime256v1' })));
  const leafKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' });
  const { subjectAltName, extensions } = gitlabCertificate(claims);
  const der = await ca.issueCertificate({ publicKey: new Uint8Array(leafKey), subjectAltName, extensions });
  return { verificationMaterial: { content: { $case: 'certificate', certificate: { rawBytes: Buffer.from(der.buffer, der.byteOffset, der.byteLength) } } } } as unknown as Bundle;
}

describe('when verify reads a certificate Fulcio issued to a GitLab job', () => {
  it('reads the GitLab fields from the shared CI extensions, and no GitHub fields', async () => {
    const bundle = await bundleWith(gitlabClaims({ runner_environment: 'self-hosted' }));
    assert.deepEqual(gitlabCertificateFields(bundle, 'https://gitlab.com'), {
      buildSignerURI: 'https://gitlab.com/acme/models//.gitlab-ci.yml@refs/heads/main', buildSignerDigest: SHA, runnerEnvironment: 'self-hosted',
      sourceRepositoryURI: 'https://gitlab.com/acme/models', sourceRepositoryDigest: SHA, sourceRepositoryRef: 'refs/heads/main', sourceRepositoryIdentifier: '4242',
      sourceRepositoryOwnerURI: 'https://gitlab.com/acme', sourceRepositoryOwnerIdentifier: '4200', buildConfigURI: 'https://gitlab.com/acme/models//.gitlab-ci.yml@refs/heads/main',
      buildConfigDigest: SHA, buildTrigger: 'push', runInvocationURI: 'https://gitlab.com/acme/models/-/jobs/1234567', sourceRepositoryVisibilityAtSigning: 'private',
    });
    assert.equal(githubCertificateFields(bundle, 'https://gitlab.com'), undefined);
    assert.equal(gitlabCertificateFields(bundle, 'https://token.actions.githubusercontent.com'), undefined);
  });
});

function statementFor(claims = gitlabClaims()): InTotoStatement {
  return buildGitlabStatement({ ...base, job: gitlabJobFromClaims(decodeClaims(jwt(claims)), {}) }) as unknown as InTotoStatement;
}

async function check(statement: InTotoStatement, certClaims: Record<string, unknown>): Promise<CheckOutcome> {
  const bundle = await bundleWith(certClaims);
  const gitlab = gitlabCertificateFields(bundle, 'https://gitlab.com');
  const signer: SignerIdentity = { kind: 'certificate', subjectAlternativeName: gitlab?.buildSignerURI ?? '', issuer: 'https://gitlab.com', ...(gitlab ? { gitlab } : {}) };
  return gitlabCertificateCheck(signer).evaluate(statement);
}

describe('when the certificate check compares a GitLab statement with its certificate', () => {
  it('passes when they describe the same job, naming project, ref, job and runner', async () => {
    assert.deepEqual(await check(statementFor(), gitlabClaims()), {
      ok: true, detail: 'project acme/models, ref refs/heads/main, job https://gitlab.com/acme/models/-/jobs/1234567 agree with the certificate (gitlab-hosted runner)',
    });
  });

  it('fails a statement of the original project signed by a fork\'s pipeline, saying so', async () => {
    const outcome = await check(statementFor(), gitlabClaims({ project_path: 'mallory/models', project_id: '666' }));
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? '' : outcome.reason, /^externalParameters\.project is https:\/\/gitlab\.com\/acme\/models, but the certificate's Source Repository URI is https:\/\/gitlab\.com\/mallory\/models \(the certificate was issued to a pipeline of another project, e\.g\. a fork\)/);
  });

  it('fails another ref, and warns of a self-managed runner', async () => {
    const ref = await check(statementFor(), gitlabClaims({ ref: 'dev' }));
    assert.match(ref.ok ? '' : ref.reason, /externalParameters\.ref is refs\/heads\/main, but the certificate's Source Repository Ref is refs\/heads\/dev \(the certificate was issued to a pipeline of another ref\)/);
    const selfHosted = gitlabClaims({ runner_environment: 'self-hosted' });
    const warned = await check(statementFor(selfHosted), selfHosted);
    assert.equal(warned.ok, true);
    assert.match(warned.ok ? warned.warning ?? '' : '', /self-managed runner \(runner_environment self-hosted\)/);
  });

  it('passes an instance under a relative URL root, whose Fulcio names the root in every URL too', async () => {
    const claims = gitlabClaims({ iss: 'https://example.com/gitlab', ci_config_ref_uri: 'example.com/gitlab/acme/models//.gitlab-ci.yml@refs/heads/main' });
    const bundle = await bundleWith({ ...claims, url: 'https://example.com/gitlab' });
    const gitlab = gitlabCertificateFields(bundle, 'https://example.com/gitlab');
    assert.equal(gitlab?.sourceRepositoryURI, 'https://example.com/gitlab/acme/models');
    const signer: SignerIdentity = { kind: 'certificate', subjectAlternativeName: gitlab?.buildSignerURI ?? '', issuer: 'https://example.com/gitlab', ...(gitlab ? { gitlab } : {}) };
    const outcome = await gitlabCertificateCheck(signer).evaluate(statementFor(claims));
    assert.equal(outcome.ok, true, reasonOf(outcome));
  });

  it('a key-signed statement passes on the key holder\'s word', async () => {
    assert.deepEqual(await gitlabCertificateCheck({ kind: 'key', fingerprint: 'ab' }).evaluate(statementFor()), {
      ok: true, detail: 'signed by a key, not by a GitLab certificate: the job is as the key holder states it',
    });
  });
});

/** A statement of the default job, edited as a tampering signer would. */
interface Editable {
  buildDefinition: { externalParameters: Record<string, string>; internalParameters: { gitlab: Record<string, string> }; resolvedDependencies: Array<{ uri: string }> };
  runDetails: { metadata: { invocationId: string } };
}

function edited(edit: (predicate: Editable) => void): InTotoStatement {
  const statement = structuredClone(statementFor());
  edit(statement.predicate as never);
  return statement;
}

const reasonOf = (outcome: CheckOutcome): string => (outcome.ok ? `passed: ${outcome.detail ?? ''}` : `${outcome.code}: ${outcome.reason}`);

describe('when a GitLab statement names what its certificate does not back', () => {
  it('fails a project, source or job URL on another host than the pinned issuer, though the paths match', async () => {
    const project = await check(edited((p) => { p.buildDefinition.externalParameters.project = 'https://github.com/acme/models'; }), gitlabClaims());
    assert.match(reasonOf(project), /^CERTIFICATE_MISMATCH: externalParameters\.project is https:\/\/github\.com\/acme\/models, but the certificate's Source Repository URI is https:\/\/gitlab\.com\/acme\/models \(the statement names another GitLab instance than the issuer https:\/\/gitlab\.com\)$/);
    const source = await check(edited((p) => { p.buildDefinition.resolvedDependencies[0]!.uri = `git+https://github.com/acme/models@refs/heads/main`; }), gitlabClaims());
    assert.match(reasonOf(source), /^CERTIFICATE_MISMATCH: the source dependency's repository is https:\/\/github\.com\/acme\/models, but/);
    const job = await check(edited((p) => { p.runDetails.metadata.invocationId = 'https://github.com/acme/models/-/jobs/1234567'; }), gitlabClaims());
    assert.match(reasonOf(job), /^CERTIFICATE_MISMATCH: runDetails\.metadata\.invocationId is https:\/\/github\.com\/acme\/models\/-\/jobs\/1234567, but the certificate's Run Invocation URI is https:\/\/gitlab\.com\/acme\/models\/-\/jobs\/1234567$/);
  });

  it('fails a config or a project visibility that differs from the certificate\'s', async () => {
    const config = await check(edited((p) => { p.buildDefinition.externalParameters.config = 'https://gitlab.com/acme/models//other.yml@refs/heads/main'; }), gitlabClaims());
    assert.match(reasonOf(config), /^CERTIFICATE_MISMATCH: externalParameters\.config is https:\/\/gitlab\.com\/acme\/models\/\/other\.yml@refs\/heads\/main, but the certificate's Build Config URI is https:\/\/gitlab\.com\/acme\/models\/\/\.gitlab-ci\.yml@refs\/heads\/main$/);
    const visibility = await check(edited((p) => { p.buildDefinition.internalParameters.gitlab.project_visibility = 'public'; }), gitlabClaims());
    assert.match(reasonOf(visibility), /^CERTIFICATE_MISMATCH: internalParameters\.gitlab\.project_visibility is public, but the certificate's Source Repository Visibility is private$/);
  });

  it('fails a GitLab statement signed by a keyless certificate that was not issued to a GitLab job', async () => {
    const account: SignerIdentity = { kind: 'certificate', subjectAlternativeName: 'builder@acme.iam.gserviceaccount.com', issuer: 'https://accounts.google.com' };
    assert.equal(reasonOf(await gitlabCertificateCheck(account).evaluate(statementFor())), 'CERTIFICATE_MISMATCH: the statement describes a GitLab CI job, but the certificate (builder@acme.iam.gserviceaccount.com, issuer https://accounts.google.com) was not issued to one');
  });
});

describe('when the certificate was issued to a merge-request pipeline', () => {
  const oidc = startGitlabOidc();
  const io: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: process.cwd(), now: () => new Date() };
  let mock: SigstoreMock;

  before(async () => {
    mock = await startSigstoreMock({ fulcioURL: 'https://fulcio-gitlab.slsa-ml.test', fulcio: (ca) => gitlabFulcioHandler(ca, { oidc }) });
  });
  after(() => stopSigstoreMock());

  async function verified(claims: GitlabClaims, flags: Record<string, string | boolean>): Promise<VerificationResult> {
    const signer = await createSigner({ kind: 'sigstore', fulcioURL: mock.fulcioURL, rekorURL: mock.rekorURL, identityToken: () => Promise.resolve(oidc.token(claims)) });
    const signed = await signStatement(Buffer.from(JSON.stringify(statementFor(claims))), signer);
    const strings = new Map(Object.entries(flags).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as const] : [])));
    const booleans = new Set(flags.allow === true ? ['gitlab-allow-merge-request-pipelines'] : []);
    strings.set('trusted-root', JSON.stringify(mock.trustedRoot));
    const trust = await trustFromFlags({ strings, lists: new Map(), booleans, positionals: [] }, io);
    return verifyProvenance({ provenance: signed.bundleJson, trust, artifact: { sha256: 'ab'.repeat(32) } });
  }

  // A fork's branch called main, run in the parent project by a merge request: GitLab names its
  // ref main (the source branch) and the identity is the parent project's at refs/heads/main.
  const mergeRequest = gitlabClaims({ pipeline_source: 'merge_request_event', ref: 'main', ref_protected: 'false' });
  const pinned = { 'gitlab-project': 'acme/models', 'gitlab-ref': 'refs/heads/main' };

  it('refuses it, though its SAN is the pinned branch\'s, naming the pipeline and the opt-in flag', async () => {
    const result = await verified(mergeRequest, pinned);
    assert.equal(result.ok, false);
    const signature = result.checks.find((c) => c.name === 'signature');
    assert.equal(signature?.code, 'MERGE_REQUEST_PIPELINE');
    assert.match(signature?.reason ?? '', /^the certificate was issued to a merge-request pipeline \(GitLab project acme\/models at refs\/heads\/main, job https:\/\/gitlab\.com\/acme\/models\/-\/jobs\/1234567\): .*pass --gitlab-allow-merge-request-pipelines to accept it$/);
    assert.equal(result.statement, undefined, 'nothing of the statement is shown');
  });

  it('--gitlab-allow-merge-request-pipelines goes only with keyless trust', async () => {
    const flags = { strings: new Map([['key', 'cosign.pub']]), lists: new Map(), booleans: new Set(['gitlab-allow-merge-request-pipelines']), positionals: [] };
    await assert.rejects(trustFromFlags(flags, io), { name: 'UsageError', message: '--gitlab-allow-merge-request-pipelines applies only to keyless verification: a key-signed statement has no certificate' });
  });

  it('accepts it with the explicit opt-in, and a push pipeline of the same ref without it', async () => {
    const allowed = await verified(mergeRequest, { ...pinned, allow: true });
    assert.ok(allowed.ok, JSON.stringify(allowed.checks));
    const push = await verified(gitlabClaims(), pinned);
    assert.ok(push.ok, JSON.stringify(push.checks));
  });
});
