// Provenance signed keyless from GitHub Actions: the Fulcio certificate (from @sigstore/mock behind
// nock, for a GitHub-shaped OIDC token) names the reusable workflow as signer and records the run;
// verify checks the signer's identity, shows the run, and refuses a statement that says otherwise
// than its certificate. Runs in-process so that nock sees every request.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { digestLocalPath } from '../../src/digest/index.ts';
import { createSigner, signStatement, type SignedProvenance } from '../../src/signing/index.ts';
import { verifyProvenance, type VerificationResult } from '../../src/verify/index.ts';
import { cli, failedChecks } from '../support/cli.ts';
import { newKeyPair, signWithKey } from '../support/signing-fixtures.ts';
import {
  GITHUB_ACTIONS_ISSUER,
  GITHUB_CLAIMS,
  GITHUB_SAN_CLAIM,
  githubActionsToken,
  identityToken,
  startSigstoreMock,
  stopSigstoreMock,
  type SigstoreMock,
} from '../support/signing-sigstore-mock.ts';

const SIGNER = 'https://github.com/slsa-ml/slsa-ml/.github/workflows/provenance.yml@refs/tags/v1';
const RUN = 'https://github.com/acme/models/actions/runs/123/attempts/1';
const COMMIT = GITHUB_CLAIMS.sha;
/** internalParameters.github as the reusable workflow records it from the token. */
const PLATFORM = {
  event_name: 'push',
  runner_environment: 'github-hosted',
  job_workflow_sha: GITHUB_CLAIMS.job_workflow_sha,
  repository_id: GITHUB_CLAIMS.repository_id,
  repository_owner_id: GITHUB_CLAIMS.repository_owner_id,
};

let root: string;
let mock: SigstoreMock;
let model: string;
let modelSha256: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-verify-github-'));
  mock = await startSigstoreMock({ subjectClaim: GITHUB_SAN_CLAIM });
  await writeFile(join(root, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
  model = join(root, 'model.safetensors');
  await writeFile(model, randomBytes(4000));
  modelSha256 = (await digestLocalPath(model)).sha256;
  await writeFile(`${model}.sigstore.json`, (await signKeyless(githubStatement())).bundleJson);
});
after(async () => {
  stopSigstoreMock();
  await rm(root, { recursive: true, force: true });
});

/** The statement slsa-ml's reusable workflow writes for the run of GITHUB_CLAIMS, with edits. */
function githubStatement(edit: (predicate: Predicate) => void = () => {}): Record<string, unknown> {
  const predicate: Predicate = {
    buildDefinition: {
      buildType: 'https://slsa-ml.dev/buildtypes/github-actions/v1',
      externalParameters: { workflow: { ref: 'refs/heads/main', repository: 'https://github.com/acme/models', path: '.github/workflows/train.yml' } },
      internalParameters: { github: { ...PLATFORM } },
      resolvedDependencies: [
        { name: 'source', uri: 'git+https://github.com/acme/models@refs/heads/main', digest: { gitCommit: COMMIT } },
        { name: 'dataset', uri: 'https://example.com/cifar10.tar.gz', digest: { sha256: 'ab'.repeat(32) }, annotations: { 'slsa-ml.dev/tenantReported': true } },
        { uri: 'pkg:pypi/torch@2.10.0', annotations: { 'slsa-ml.dev/tenantReported': true } },
      ],
    },
    runDetails: { builder: { id: SIGNER, version: { 'slsa-ml': '0.1.0' } }, metadata: { invocationId: RUN, finishedOn: '2026-01-15T11:00:00Z' } },
  };
  edit(predicate);
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'model.safetensors', digest: { sha256: modelSha256 } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate,
  };
}

interface Predicate {
  buildDefinition: {
    buildType: string;
    externalParameters: { workflow: { ref: string; repository: string; path: string } };
    internalParameters: Record<string, unknown>;
    resolvedDependencies: Array<{ name?: string; uri: string; digest?: Record<string, string>; annotations?: Record<string, unknown> }>;
  };
  runDetails: { builder: { id: string; version: Record<string, string> }; metadata: { invocationId: string; finishedOn: string } };
}

async function signKeyless(statement: Record<string, unknown>, token = githubActionsToken()): Promise<SignedProvenance> {
  const signer = await createSigner({ kind: 'sigstore', fulcioURL: mock.fulcioURL, rekorURL: mock.rekorURL, identityToken: () => Promise.resolve(token) });
  return signStatement(Buffer.from(JSON.stringify(statement)), signer);
}

/** A doctored statement, signed with the same run's token, written where --provenance can name it. */
async function doctored(name: string, edit: (predicate: Predicate) => void): Promise<string> {
  const path = join(root, `${name}.sigstore.json`);
  await writeFile(path, (await signKeyless(githubStatement(edit))).bundleJson);
  return path;
}

const keyless = ['--certificate-oidc-issuer', GITHUB_ACTIONS_ISSUER, '--trusted-root', 'trusted_root.json'];

async function verifyJson(...flags: string[]) {
  const run = await cli(['verify', model, '--json', ...keyless, ...flags], { cwd: root });
  return { ...run, failed: failedChecks(run.stdout), verdict: JSON.parse(run.stdout) as Record<string, unknown> };
}

function certificateCheck(result: VerificationResult) {
  return result.checks.find((c) => c.name === 'certificate');
}

describe('when a model was attested keyless by the reusable workflow', () => {
  it('verifies with the workflow as identity and reports what the certificate says about the run', async () => {
    const run = await verifyJson('--certificate-identity', SIGNER);
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(run.verdict.signer, {
      kind: 'certificate',
      subjectAlternativeName: SIGNER,
      issuer: GITHUB_ACTIONS_ISSUER,
      github: {
        buildSignerURI: SIGNER,
        buildSignerDigest: GITHUB_CLAIMS.job_workflow_sha,
        runnerEnvironment: 'github-hosted',
        sourceRepositoryURI: 'https://github.com/acme/models',
        sourceRepositoryDigest: COMMIT,
        sourceRepositoryRef: 'refs/heads/main',
        sourceRepositoryIdentifier: GITHUB_CLAIMS.repository_id,
        sourceRepositoryOwnerIdentifier: GITHUB_CLAIMS.repository_owner_id,
        buildConfigURI: 'https://github.com/acme/models/.github/workflows/train.yml@refs/heads/main',
        buildConfigDigest: GITHUB_CLAIMS.workflow_sha,
        buildTrigger: 'push',
        runInvocationURI: RUN,
      },
    });
    assert.deepEqual(run.verdict.workflow, { repository: 'https://github.com/acme/models', path: '.github/workflows/train.yml', ref: 'refs/heads/main', run: RUN });
    assert.equal(run.verdict.taskRun, null, 'a workflow run is not a TaskRun');
    assert.deepEqual(run.verdict.source, { uri: 'git+https://github.com/acme/models@refs/heads/main', repository: 'https://github.com/acme/models', ref: 'refs/heads/main', commit: COMMIT });
  });

  it('prints the workflow run and source instead of a TaskRun, and the certificate check', async () => {
    const run = await cli(['verify', model, ...keyless, '--certificate-identity', SIGNER], { cwd: root });
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /PASS {2}certificate +builder, workflow, source, run and trigger agree with the certificate\n/);
    assert.match(run.stdout, /\nworkflow +https:\/\/github\.com\/acme\/models\/\.github\/workflows\/train\.yml@refs\/heads\/main, run https:\/\/github\.com\/acme\/models\/actions\/runs\/123\/attempts\/1, finished 2026-01-15T11:00:00Z\n/);
    assert.match(run.stdout, new RegExp(`\\nsource +https://github\\.com/acme/models@refs/heads/main, commit ${COMMIT}\\n`));
    assert.match(run.stdout, /\nsigner +https:\/\/github\.com\/slsa-ml\/slsa-ml\/.*@refs\/tags\/v1 \(issuer https:\/\/token\.actions\.githubusercontent\.com, github-hosted runner\)\n/);
    assert.doesNotMatch(run.stdout, /taskrun/);
  });

  it('verifies with an identity regular expression for the reusable workflow', async () => {
    const run = await verifyJson('--certificate-identity-regexp', '^https://github.com/slsa-ml/slsa-ml/');
    assert.equal(run.code, 0, run.stdout);
  });

  it('fails (exit 1) for another workflow, another tag of it, or a fork', async () => {
    for (const other of [
      'https://github.com/acme/models/.github/workflows/train.yml@refs/heads/main',
      'https://github.com/slsa-ml/slsa-ml/.github/workflows/provenance.yml@refs/tags/v2',
      'https://github.com/evil/slsa-ml/.github/workflows/provenance.yml@refs/tags/v1',
    ]) {
      const run = await verifyJson('--certificate-identity', other);
      assert.equal(run.code, 1, other);
      assert.deepEqual(run.failed, { signature: 'IDENTITY_MISMATCH' }, other);
    }
    const fork = await verifyJson('--certificate-identity-regexp', '^https://github.com/evil/');
    assert.deepEqual(fork.failed, { signature: 'IDENTITY_MISMATCH' });
  });
});

describe('when a policy names the source of a GitHub Actions run', () => {
  it('passes the repository, the ref and the commit that were built, and the builder', async () => {
    const run = await verifyJson('--certificate-identity', SIGNER, '--source-repo', 'github.com/acme/models', '--source-ref', 'refs/heads/main', '--builder-id', SIGNER);
    assert.equal(run.code, 0, run.stdout);
    const byCommit = await verifyJson('--certificate-identity', SIGNER, '--source-repo', 'https://github.com/acme/models', '--source-ref', COMMIT.toUpperCase());
    assert.equal(byCommit.code, 0, byCommit.stdout);
  });

  it('fails another repository, another branch and another commit, each by name', async () => {
    const run = await verifyJson('--certificate-identity', SIGNER, '--source-repo', 'github.com/acme/other', '--source-ref', 'refs/heads/other');
    assert.equal(run.code, 1);
    assert.deepEqual(run.failed, { sourceRepo: 'SOURCE_MISMATCH', sourceRef: 'SOURCE_REF_MISMATCH' });
    const checks = run.verdict.checks as Array<{ name: string; reason?: string }>;
    assert.match(checks.find((c) => c.name === 'sourceRef')?.reason ?? '', /trained from ref refs\/heads\/main, want refs\/heads\/other/);
    const commit = await verifyJson('--certificate-identity', SIGNER, '--source-ref', '0'.repeat(40));
    assert.deepEqual(commit.failed, { sourceRef: 'SOURCE_REF_MISMATCH' });
  });

  it('refuses a --source-ref that is neither a full commit nor a ref, as a usage error', async () => {
    const run = await cli(['verify', model, ...keyless, '--certificate-identity', SIGNER, '--source-ref', 'main'], { cwd: root });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^slsa-ml verify: --source-ref: "main" is neither a full commit .* nor a ref such as refs\/heads\/main/);
  });
});

describe('when the signed statement says otherwise than its certificate', () => {
  const cases: Array<[string, (p: Predicate) => void, RegExp]> = [
    ['another builder', (p) => (p.runDetails.builder.id = 'https://github.com/acme/models/.github/workflows/fake-provenance.yml@refs/heads/main'), /runDetails\.builder\.id is .*fake-provenance.*, but the certificate's Build Signer URI is https:\/\/github\.com\/slsa-ml\//],
    ['another source commit', (p) => (p.buildDefinition.resolvedDependencies[0]!.digest = { gitCommit: 'c'.repeat(40) }), /source dependency's digest\.gitCommit is c{40}, but the certificate's Source Repository Digest is 1f0a9e3c/],
    ['another source repository', (p) => (p.buildDefinition.resolvedDependencies[0]!.uri = 'git+https://github.com/acme/other@refs/heads/main'), /source dependency's repository is https:\/\/github\.com\/acme\/other, but the certificate's Source Repository URI/],
    ['another workflow ref', (p) => (p.buildDefinition.externalParameters.workflow.ref = 'refs/tags/release'), /externalParameters\.workflow\.ref is refs\/tags\/release, but the certificate's Source Repository Ref is refs\/heads\/main/],
    ['another run', (p) => (p.runDetails.metadata.invocationId = 'https://github.com/acme/models/actions/runs/999/attempts/1'), /runDetails\.metadata\.invocationId is .*runs\/999.*, but the certificate's Run Invocation URI is .*runs\/123/],
    ['no source dependency', (p) => (p.buildDefinition.resolvedDependencies = p.buildDefinition.resolvedDependencies.slice(1)), /source dependency's repository is missing/],
    ['a second, different commit beside the certified one', (p) => (p.buildDefinition.resolvedDependencies[0]!.digest = { gitCommit: COMMIT, sha1: 'c'.repeat(40) }), /digest\.gitCommit is conflicting [0-9a-f]{40} \/ [0-9a-f]{40}, but/],
    ['another event', (p) => (p.buildDefinition.internalParameters = { github: { ...PLATFORM, event_name: 'workflow_dispatch' } }), /event_name is workflow_dispatch, but the certificate's Build Trigger is push/],
    ['another repository id (a deleted and re-created repository of the same name)', (p) => (p.buildDefinition.internalParameters = { github: { ...PLATFORM, repository_id: '1' } }), /repository_id is 1, but the certificate's Source Repository Identifier is 4242/],
    ['another builder commit', (p) => (p.buildDefinition.internalParameters = { github: { ...PLATFORM, job_workflow_sha: 'd'.repeat(40) } }), /job_workflow_sha is d{40}, but the certificate's Build Signer Digest is 9c8b7a6f/],
  ];
  for (const [what, edit, reason] of cases) {
    it(`${what}: the certificate check fails (exit 1) and names the field`, async () => {
      const provenance = await doctored(what.replace(/ /g, '-'), edit);
      const run = await verifyJson('--certificate-identity', SIGNER, '--provenance', provenance);
      assert.equal(run.code, 1, run.stdout);
      assert.deepEqual(run.failed, { certificate: 'CERTIFICATE_MISMATCH' });
      const check = (run.verdict.checks as Array<{ name: string; reason?: string }>).find((c) => c.name === 'certificate');
      assert.match(check?.reason ?? '', reason);
    });
  }
});

describe('when GitHub Actions provenance is verified without a GitHub certificate', () => {
  it('a key-signed statement passes the certificate check, saying the run rests on the key', async () => {
    const key = newKeyPair();
    const signed = await signWithKey(key.privatePem, githubStatement((p) => (p.runDetails.builder.id = 'https://example.com/anything')));
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust: { kind: 'key', publicKeyPem: key.publicPem }, artifact: { sha256: modelSha256 } });
    assert.ok(result.ok, JSON.stringify(result.checks));
    assert.match(certificateCheck(result)?.detail ?? '', /signed by a key/);
  });

  it('a certificate from GitHub\'s issuer that says nothing about the run fails: there is nothing to bind the statement to', async () => {
    const token = identityToken({ sub: 'repo:acme/models:ref:refs/heads/main', iss: GITHUB_ACTIONS_ISSUER, [GITHUB_SAN_CLAIM]: SIGNER });
    const signed = await signKeyless(githubStatement(), token);
    const trust = { kind: 'identity' as const, certificateIdentity: SIGNER, oidcIssuer: GITHUB_ACTIONS_ISSUER, trustedRoot: mock.trustedRoot };
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust, artifact: { sha256: modelSha256 } });
    assert.equal(result.ok, false);
    const check = certificateCheck(result);
    assert.equal(check?.code, 'CERTIFICATE_INCOMPLETE');
    assert.match(check?.reason ?? '', /lacks buildSignerURI, sourceRepositoryURI, sourceRepositoryRef, sourceRepositoryDigest, runInvocationURI/);
  });

  it('a certificate from another OIDC issuer carries no GitHub fields to compare', async () => {
    const token = identityToken({ sub: 'trainer', [GITHUB_SAN_CLAIM]: 'trainer@example.com', repository: 'acme/models', sha: COMMIT });
    const signed = await signKeyless(githubStatement(), token);
    const trust = { kind: 'identity' as const, certificateIdentity: 'trainer@example.com', oidcIssuer: 'https://oidc.slsa-ml.test', trustedRoot: mock.trustedRoot };
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust, artifact: { sha256: modelSha256 } });
    assert.ok(result.ok, JSON.stringify(result.checks));
    assert.equal(result.signer?.kind === 'certificate' ? result.signer.github : 'not a certificate', undefined, 'fields under another issuer are not GitHub facts');
    assert.match(certificateCheck(result)?.detail ?? '', /no GitHub Actions certificate fields/);
  });
});

describe('when a statement of another build type is signed by a GitHub Actions certificate', () => {
  // Otherwise a holder of the workflow's certificate could state any source under the Tekton
  // build type, where no field is compared with the certificate, and pass --source-repo/--source-ref.
  it('fails the certificate check: a workflow run\'s certificate vouches only for a statement of that run', async () => {
    const tekton = githubStatement((p) => {
      p.buildDefinition.buildType = 'https://slsa-ml.dev/buildtypes/tekton-training/v1';
      p.buildDefinition.resolvedDependencies[0]!.uri = 'git+https://github.com/victim/repo@refs/tags/release';
    });
    const signed = await signKeyless(tekton);
    const trust = { kind: 'identity' as const, certificateIdentity: SIGNER, oidcIssuer: GITHUB_ACTIONS_ISSUER, trustedRoot: mock.trustedRoot };
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust, artifact: { sha256: modelSha256 } });
    assert.equal(result.ok, false);
    const check = result.checks.find((c) => c.name === 'certificate');
    assert.equal(check?.code, 'CERTIFICATE_MISMATCH');
    assert.match(check?.reason ?? '', /issued to a GitHub Actions run, but the statement's buildType is https:\/\/slsa-ml\.dev\/buildtypes\/tekton-training\/v1/);
  });
});
