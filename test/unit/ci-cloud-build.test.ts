// The Cloud Build platform of `slsa-ml attest-ci`: a step's environment, Cloud Build's record of
// the build (builds.get, from a stand-in) and, keyless, the metadata server's identity token → a
// statement of buildType cloud-build/v1.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { metadataAccessToken } from '../../src/ci/cloud-build/access-token.ts';
import { readBuildRecord } from '../../src/ci/cloud-build/build-record.ts';
import { cloudBuildPlatform } from '../../src/ci/cloud-build/platform.ts';
import type { CiEnv, CiStatementInput } from '../../src/ci/platform.ts';
import { CLOUD_BUILD_BUILD_TYPE, serializeStatement, type ResourceDescriptor, type Statement } from '../../src/provenance/index.ts';
import { createSigner, signStatement } from '../../src/signing/index.ts';
import { verifyProvenance, type VerificationResult } from '../../src/verify/index.ts';
import { buildRecordFor, startCloudBuildApi, type CloudBuildApi } from '../support/cloud-build-api.ts';
import { GOOGLE_ISSUER, startMetadataServer, type MetadataServer } from '../support/metadata-server.ts';
import { identityToken as mockToken, startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';

const SA = 'trainer@acme-ml.iam.gserviceaccount.com';
const COMMIT = '1f0a9e3c5b7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f';

/** A step of a build started by a GitHub push trigger, with automapSubstitutions on. */
const TRIGGERED_STEP = {
  BUILD_ID: '6c1f6a2e-4b8d-4e0a-9d55-0f6c2b7e9a11',
  PROJECT_ID: 'acme-ml',
  PROJECT_NUMBER: '123456789012',
  LOCATION: 'us-central1',
  TRIGGER_NAME: 'train-cifar10',
  TRIGGER_BUILD_CONFIG_PATH: 'examples/cloud-build/cloudbuild.yaml',
  COMMIT_SHA: COMMIT,
  SHORT_SHA: COMMIT.slice(0, 7),
  REVISION_ID: COMMIT,
  REPO_NAME: 'models',
  REPO_FULL_NAME: 'acme/models',
  BRANCH_NAME: 'main',
  TAG_NAME: '',
  REF_NAME: 'main',
  SERVICE_ACCOUNT_EMAIL: SA,
  SERVICE_ACCOUNT: `projects/acme-ml/serviceAccounts/${SA}`,
  _BUCKET: 'acme-models',
  _EPOCHS: '3',
  HOME: '/builder/home',
  PATH: '/usr/bin',
};
/** The same step, its facts from the environment alone. */
const TRIGGERED: CiEnv = { ...TRIGGERED_STEP, SLSA_ML_CLOUD_BUILD_API: 'off' };

/** `gcloud builds submit` with no trigger: the trigger substitutions arrive empty. */
const MANUAL: CiEnv = { ...TRIGGERED, TRIGGER_NAME: '', TRIGGER_BUILD_CONFIG_PATH: '', COMMIT_SHA: '', SHORT_SHA: '', REVISION_ID: '', REPO_NAME: '', REPO_FULL_NAME: '', BRANCH_NAME: '', REF_NAME: '', _EPOCHS: undefined };

const INPUT: CiStatementInput = {
  subjects: [{ name: 'models/6c1f/pytorch_model.pth', uri: 'gs://acme-models/models/6c1f/pytorch_model.pth', digest: { sha256: 'a'.repeat(64) } }],
  identityToken: undefined,
  reported: { frameworks: ['pkg:pypi/torch@2.10.0'], dataset: { uri: 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz', sha256: 'b'.repeat(64) } },
  builderVersion: { 'slsa-ml': '0.1.0' },
  finishedOn: '2026-12-07T02:00:00Z',
};

function googleToken(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [part({ alg: 'none' }), part({ iss: GOOGLE_ISSUER, aud: 'sigstore', sub: '1047', ...claims }), ''].join('.');
}

function predicate(statement: Statement): { buildDefinition: Record<string, unknown>; runDetails: Record<string, unknown> } {
  return statement.predicate as unknown as { buildDefinition: Record<string, unknown>; runDetails: Record<string, unknown> };
}

describe('Cloud Build platform', () => {
  it('detects a Cloud Build step by the BUILD_ID and PROJECT_ID Cloud Build sets, and nothing else', () => {
    assert.equal(cloudBuildPlatform.detect(TRIGGERED), true);
    assert.equal(cloudBuildPlatform.detect({ BUILD_ID: 'x' }), false);
    assert.equal(cloudBuildPlatform.detect({ GITLAB_CI: 'true', CI_JOB_ID: '1' }), false);
  });

  it('describes a triggered build: its trigger, config, source commit, substitutions, and the API name of the build', async () => {
    const statement = await cloudBuildPlatform.statement(TRIGGERED, INPUT);
    const { buildDefinition, runDetails } = predicate(statement);
    assert.equal(buildDefinition.buildType, CLOUD_BUILD_BUILD_TYPE);
    assert.deepEqual(buildDefinition.externalParameters, {
      buildConfig: { trigger: 'train-cifar10', path: 'examples/cloud-build/cloudbuild.yaml', repository: 'acme/models', ref: 'main' },
      substitutions: { _BUCKET: 'acme-models', _EPOCHS: '3' },
    });
    const internal = buildDefinition.internalParameters as { cloudBuild: unknown; recordedFrom: { environment: string[] } };
    assert.deepEqual(internal.cloudBuild, { projectId: 'acme-ml', projectNumber: '123456789012', location: 'us-central1', buildId: TRIGGERED.BUILD_ID, serviceAccount: SA });
    // Every recorded fact is labelled as the environment's word, by variable.
    assert.deepEqual(internal.recordedFrom.environment, [
      'BRANCH_NAME', 'BUILD_ID', 'COMMIT_SHA', 'LOCATION', 'PROJECT_ID', 'PROJECT_NUMBER', 'REF_NAME', 'REPO_FULL_NAME',
      'SERVICE_ACCOUNT_EMAIL', 'TRIGGER_BUILD_CONFIG_PATH', 'TRIGGER_NAME', '_BUCKET', '_EPOCHS',
    ]);
    const deps = buildDefinition.resolvedDependencies as ResourceDescriptor[];
    assert.deepEqual(deps[0], { name: 'source', digest: { gitCommit: COMMIT }, annotations: { repository: 'acme/models', ref: 'main', refKind: 'branch' } });
    assert.deepEqual(deps.slice(1).map((d) => [d.name ?? d.uri, d.annotations?.tenantReported]), [['dataset', true], ['pkg:pypi/torch@2.10.0', true]]);
    assert.deepEqual(runDetails, {
      builder: { id: 'https://cloudbuild.googleapis.com/projects/acme-ml/locations/us-central1', version: { 'slsa-ml': '0.1.0' } },
      metadata: { invocationId: `https://cloudbuild.googleapis.com/v1/projects/acme-ml/locations/us-central1/builds/${TRIGGERED.BUILD_ID}`, finishedOn: '2026-12-07T02:00:00Z' },
    });
    // Same step, same bytes.
    assert.deepEqual(serializeStatement(await cloudBuildPlatform.statement({ ...TRIGGERED }, INPUT)), serializeStatement(statement));
  });

  it('records no trigger or source for a manual build, whose trigger substitutions are empty', async () => {
    const { buildDefinition } = predicate(await cloudBuildPlatform.statement(MANUAL, INPUT));
    assert.deepEqual(buildDefinition.externalParameters, { substitutions: { _BUCKET: 'acme-models' } });
    assert.equal((buildDefinition.resolvedDependencies as ResourceDescriptor[]).some((d) => d.name === 'source'), false);
  });

  it('keyless: records the service account the identity token names (the certificate\'s SAN) as the token\'s word', async () => {
    const identityToken = googleToken({ email: SA, email_verified: true });
    const { buildDefinition } = predicate(await cloudBuildPlatform.statement(TRIGGERED, { ...INPUT, identityToken }));
    const internal = buildDefinition.internalParameters as { cloudBuild: { serviceAccount: string }; recordedFrom: { environment: string[]; identityToken: string[] } };
    assert.equal(internal.cloudBuild.serviceAccount, SA);
    assert.deepEqual(internal.recordedFrom.identityToken, ['email']);
    assert.equal(internal.recordedFrom.environment.includes('SERVICE_ACCOUNT_EMAIL'), false);
  });

  it('keyless: refuses a SERVICE_ACCOUNT_EMAIL that differs from the token\'s email, naming both', async () => {
    const identityToken = googleToken({ email: 'other@acme-ml.iam.gserviceaccount.com', email_verified: true });
    await assert.rejects(cloudBuildPlatform.statement(TRIGGERED, { ...INPUT, identityToken }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CLOUD_BUILD_VARIABLE_INVALID');
      assert.match(err.message, /SERVICE_ACCOUNT_EMAIL=trainer@acme-ml\.iam\.gserviceaccount\.com, which differs from the identity token's email other@/);
      return true;
    });
  });

  it('keyless: refuses a token without an email claim (asked without format=full)', async () => {
    await assert.rejects(cloudBuildPlatform.statement(TRIGGERED, { ...INPUT, identityToken: googleToken({}) }), { code: 'CLOUD_BUILD_TOKEN_INVALID', message: /no email claim.*format=full/ });
  });

  for (const [name, hint] of [['BUILD_ID', /as a step of a Cloud Build build/], ['LOCATION', /automapSubstitutions: true/], ['PROJECT_NUMBER', /automapSubstitutions: true/]] as const) {
    it(`names ${name} when it is missing, and says how to get it`, async () => {
      await assert.rejects(cloudBuildPlatform.statement({ ...TRIGGERED, [name]: undefined }, INPUT), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CLOUD_BUILD_VARIABLE_MISSING');
        assert.match(err.message, new RegExp(`^Cloud Build variable ${name} is not set: `));
        assert.match(err.message, hint);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    });
  }

  for (const [name, value] of [['COMMIT_SHA', 'main'], ['BUILD_ID', '../../other'], ['PROJECT_NUMBER', 'acme'], ['LOCATION', 'US Central']] as const) {
    it(`names ${name} when its value is malformed (${JSON.stringify(value)})`, async () => {
      await assert.rejects(cloudBuildPlatform.statement({ ...TRIGGERED, [name]: value }, INPUT), {
        code: 'CLOUD_BUILD_VARIABLE_INVALID',
        message: new RegExp(`^Cloud Build variable ${name}=${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not `),
      });
    });
  }

  it('refuses a repository without a commit rather than record a source it cannot pin', async () => {
    await assert.rejects(cloudBuildPlatform.statement({ ...TRIGGERED, COMMIT_SHA: '' }, INPUT), { code: 'CLOUD_BUILD_VARIABLE_MISSING', message: /COMMIT_SHA is not set, but REPO_FULL_NAME is/ });
  });
});

describe('Cloud Build identity token (metadata server stand-in)', () => {
  let server: MetadataServer;
  before(async () => {
    server = await startMetadataServer({ email: SA });
  });
  after(() => server.close());

  it('asks the metadata server at GCE_METADATA_HOST for a full-format token with audience sigstore', async () => {
    const token = await cloudBuildPlatform.identityToken({ ...TRIGGERED, GCE_METADATA_HOST: server.host })();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.equal(claims.iss, GOOGLE_ISSUER);
    assert.equal(claims.email, SA);
    assert.equal(claims.email_verified, true);
    assert.equal(claims.aud, 'sigstore');
    assert.deepEqual(server.requests.at(-1), { audience: 'sigstore', format: 'full', flavored: true });
  });

  it('the stand-in refuses a request without Metadata-Flavor: Google, as the real server does', async () => {
    const response = await fetch(`http://${server.host}/computeMetadata/v1/instance/service-accounts/default/identity?audience=sigstore`, { signal: AbortSignal.timeout(5000) });
    assert.equal(response.status, 403);
  });
});

describe('Cloud Build platform with Cloud Build\'s record of the build', () => {
  let metadata: MetadataServer;
  let api: CloudBuildApi;
  const name = `projects/acme-ml/locations/us-central1/builds/${TRIGGERED_STEP.BUILD_ID}`;
  const step = (): CiEnv => ({ ...TRIGGERED_STEP, SLSA_ML_CLOUD_BUILD_API: api.url, GCE_METADATA_HOST: metadata.host });
  before(async () => {
    metadata = await startMetadataServer({ email: SA });
    api = await startCloudBuildApi(metadata.accessToken);
  });
  after(async () => {
    await api.close();
    await metadata.close();
  });
  const record = (extra: Record<string, unknown> = {}): void => void api.builds.set(name, buildRecordFor(TRIGGERED_STEP, extra));

  it('reads builds.get with the service account\'s access token and records its trigger id, worker pool, times and resolved source, field by field', async () => {
    record();
    const { buildDefinition, runDetails } = predicate(await cloudBuildPlatform.statement(step(), INPUT));
    assert.deepEqual(api.requests.at(-1), { path: `/v1/${name}`, authorized: true });
    const internal = buildDefinition.internalParameters as { cloudBuild: unknown; recordedFrom: unknown };
    assert.deepEqual(internal.cloudBuild, {
      projectId: 'acme-ml', projectNumber: '123456789012', location: 'us-central1', buildId: TRIGGERED_STEP.BUILD_ID,
      triggerId: '0b9c6f0e-7d55-4c5b-9e0a-3f1c2b4d5e6f', serviceAccount: SA, createTime: '2026-12-07T01:00:00.123456Z',
      workerPool: 'projects/acme-ml/locations/us-central1/workerPools/training-pool',
    });
    assert.deepEqual(internal.recordedFrom, {
      environment: ['PROJECT_NUMBER'],
      cloudBuildApi: [
        'buildTriggerId', 'createTime', 'id', 'name', 'options.pool.name', 'projectId', 'serviceAccount', 'sourceProvenance', 'startTime', 'status',
        'substitutions.BRANCH_NAME', 'substitutions.REF_NAME', 'substitutions.REPO_FULL_NAME', 'substitutions.TRIGGER_BUILD_CONFIG_PATH',
        'substitutions.TRIGGER_NAME', 'substitutions._BUCKET', 'substitutions._EPOCHS',
      ],
      // The stand-in is not Google's API: the statement says where its record came from.
      cloudBuildApiEndpoint: api.url,
    });
    assert.deepEqual((buildDefinition.resolvedDependencies as ResourceDescriptor[])[0], {
      name: 'source', digest: { gitCommit: COMMIT },
      annotations: { repository: 'acme/models', ref: 'main', refKind: 'branch', repositoryResource: 'projects/acme-ml/locations/us-central1/connections/github/repositories/acme-models' },
    });
    assert.equal((runDetails.metadata as { startedOn: string }).startedOn, '2026-12-07T01:00:05.654321Z');
  });

  it('records a git URL Cloud Build resolved the commit from as the source\'s uri', async () => {
    record({ sourceProvenance: { resolvedGitSource: { url: 'https://github.com/acme/models.git', revision: COMMIT } } });
    const { buildDefinition } = predicate(await cloudBuildPlatform.statement(step(), INPUT));
    assert.equal((buildDefinition.resolvedDependencies as ResourceDescriptor[])[0]?.uri, 'git+https://github.com/acme/models.git');
  });

  it('records only the substitutions Cloud Build has: a step\'s own _VARIABLE is not one', async () => {
    record();
    const { buildDefinition } = predicate(await cloudBuildPlatform.statement({ ...step(), _DEBUG: '1' }, INPUT));
    assert.deepEqual((buildDefinition.externalParameters as { substitutions: unknown }).substitutions, { _BUCKET: 'acme-models', _EPOCHS: '3' });
  });

  for (const [variable, value] of [['COMMIT_SHA', 'e'.repeat(40)], ['TRIGGER_NAME', 'other-trigger'], ['_EPOCHS', '300'], ['SERVICE_ACCOUNT_EMAIL', 'other@acme-ml.iam.gserviceaccount.com']] as const) {
    it(`refuses when ${variable} in the environment differs from Cloud Build's record`, async () => {
      record();
      await assert.rejects(cloudBuildPlatform.statement({ ...step(), [variable]: value }, INPUT), {
        code: 'CLOUD_BUILD_RECORD_MISMATCH',
        message: `Cloud Build variable ${variable} differs from Cloud Build's record of the build: a step's env (or something else) rewrote it`,
      });
    });
  }

  it('keyless: refuses when the record\'s service account is not the token\'s', async () => {
    record({ serviceAccount: 'projects/acme-ml/serviceAccounts/other@acme-ml.iam.gserviceaccount.com' });
    await assert.rejects(cloudBuildPlatform.statement({ ...step(), SERVICE_ACCOUNT_EMAIL: '' }, { ...INPUT, identityToken: googleToken({ email: SA, email_verified: true }) }), {
      code: 'CLOUD_BUILD_VARIABLE_INVALID', message: /record names the service account other@acme-ml\.iam\.gserviceaccount\.com, which differs from the identity token's email trainer@/,
    });
  });

  it('refuses the record of a build that is not running (this step cannot belong to it)', async () => {
    record({ status: 'SUCCESS' });
    await assert.rejects(cloudBuildPlatform.statement(step(), INPUT), { code: 'CLOUD_BUILD_RECORD_INVALID', message: /status SUCCESS, not WORKING/ });
  });

  it('says which role is missing when the API refuses the service account', async () => {
    record();
    const denied = await startCloudBuildApi('another-token');
    try {
      denied.builds.set(name, buildRecordFor(TRIGGERED_STEP));
      await assert.rejects(cloudBuildPlatform.statement({ ...step(), SLSA_ML_CLOUD_BUILD_API: denied.url }, INPUT), {
        code: 'CLOUD_BUILD_API_DENIED', message: /HTTP 403\): grant the build's service account roles\/cloudbuild\.builds\.viewer, or set SLSA_ML_CLOUD_BUILD_API=off/,
      });
    } finally {
      await denied.close();
    }
  });

  it('fails with the reason when the API cannot be reached, and never sends the token over plain HTTP to another machine', async () => {
    const gone = await startCloudBuildApi(metadata.accessToken);
    await gone.close();
    await assert.rejects(cloudBuildPlatform.statement({ ...step(), SLSA_ML_CLOUD_BUILD_API: gone.url }, INPUT), { code: 'CLOUD_BUILD_API_UNAVAILABLE', message: /unreachable reading build .*ECONNREFUSED/ });
    await assert.rejects(cloudBuildPlatform.statement({ ...step(), SLSA_ML_CLOUD_BUILD_API: 'http://cloudbuild.example.com' }, INPUT), { code: 'CLOUD_BUILD_VARIABLE_INVALID', message: /^SLSA_ML_CLOUD_BUILD_API="http:\/\/cloudbuild\.example\.com" is not off or an https:\/\/ URL/ });
    // The endpoint is published in the provenance: a key in its query (or a password) is refused, unquoted.
    for (const secret of ['https://cloudbuild.example.com/?key=AIzaSECRET', 'https://user:SECRET@cloudbuild.example.com']) {
      await assert.rejects(cloudBuildPlatform.statement({ ...step(), SLSA_ML_CLOUD_BUILD_API: secret }, INPUT), (err: Error) => {
        assert.match(err.message, /^SLSA_ML_CLOUD_BUILD_API must be a base URL without user, password, query or fragment/);
        assert.doesNotMatch(err.message, /SECRET/);
        return true;
      });
    }
  });
});

describe('when verify compares a Cloud Build statement with the certificate that signed it', () => {
  let mock: SigstoreMock;
  const sha256 = 'a'.repeat(64);

  before(async () => {
    mock = await startSigstoreMock({ fulcioURL: 'https://fulcio-google.slsa-ml.test', subjectClaim: 'email' });
  });
  after(() => stopSigstoreMock());

  /** The statement signed keyless as `signer` (Google's issuer unless told), verified trusting that identity. */
  async function verified(statement: object, signer: string, issuer = GOOGLE_ISSUER): Promise<VerificationResult> {
    // sigstore-js reads Google's subject from email only when email_verified is set.
    const token = mockToken({ sub: '1047', iss: issuer, email: signer, email_verified: 'true' });
    const signing = await createSigner({ kind: 'sigstore', fulcioURL: mock.fulcioURL, rekorURL: mock.rekorURL, identityToken: () => Promise.resolve(token) });
    const signed = await signStatement(Buffer.from(JSON.stringify(statement)), signing);
    return verifyProvenance({ provenance: signed.bundleJson, trust: { kind: 'identity', certificateIdentity: signer, oidcIssuer: issuer, trustedRoot: mock.trustedRoot }, artifact: { sha256 } });
  }

  const certificate = (result: VerificationResult): string => {
    const check = result.checks.find((c) => c.name === 'certificate');
    return check === undefined ? 'no certificate check' : check.ok ? `PASS ${check.detail ?? ''}` : `FAIL ${check.code ?? ''}: ${check.reason ?? ''}`;
  };

  it('passes when the build\'s service account is the certificate\'s SAN, saying what the certificate does not cover', async () => {
    const statement = await cloudBuildPlatform.statement(TRIGGERED, { ...INPUT, identityToken: googleToken({ email: SA }) });
    const result = await verified(statement, SA);
    assert.ok(result.ok, JSON.stringify(result.checks));
    assert.equal(certificate(result), `PASS the build's service account ${SA} signed; the certificate names no build, trigger or source: those are the build's own word`);
  });

  it('fails a statement naming another service account than the one that signed it', async () => {
    const statement = await cloudBuildPlatform.statement(TRIGGERED, { ...INPUT, identityToken: googleToken({ email: SA }) });
    const other = 'mallory@acme-ml.iam.gserviceaccount.com';
    const result = await verified(statement, other);
    assert.equal(result.ok, false);
    assert.equal(certificate(result), `FAIL CERTIFICATE_MISMATCH: internalParameters.cloudBuild.serviceAccount is ${SA}, but the certificate was issued to ${other}`);
  });

  it('fails a Cloud Build statement signed by an identity of another issuer', async () => {
    const statement = await cloudBuildPlatform.statement(TRIGGERED, { ...INPUT, identityToken: googleToken({ email: SA }) });
    const result = await verified(statement, SA, 'https://oidc.slsa-ml.test');
    assert.equal(certificate(result), `FAIL CERTIFICATE_MISMATCH: the statement describes a Cloud Build build, but the certificate (${SA}) was issued by https://oidc.slsa-ml.test, not https://accounts.google.com to a service account`);
  });

  it('fails a GitLab statement signed by the service account: its certificate backs none of the job\'s facts', async () => {
    const gitlab = {
      _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'pytorch_model.pth', digest: { sha256 } }], predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://slsa-ml.dev/buildtypes/gitlab-ci/v1', externalParameters: { project: 'https://gitlab.com/acme/models' } }, runDetails: { builder: { id: 'https://gitlab.com/acme/models//.gitlab-ci.yml@refs/heads/main' } } },
    };
    const result = await verified(gitlab, SA);
    assert.equal(result.ok, false);
    assert.equal(certificate(result), `FAIL CERTIFICATE_MISMATCH: the statement describes a GitLab CI job, but the certificate (${SA}, issuer https://accounts.google.com) was not issued to one`);
  });
});

describe('when the metadata server or the Cloud Build API never answers', () => {
  // Accepts connections and never answers: what a hung metadata server or a black-holed proxy does.
  let silent: Server;
  let host: string;
  before(async () => {
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  after(() => {
    silent.closeAllConnections();
    silent.close();
  });

  async function within<T>(work: Promise<T>): Promise<{ error: Error; elapsed: number }> {
    const start = Date.now();
    const error = await work.then(() => new Error('answered'), (err: unknown) => err as Error);
    return { error, elapsed: Date.now() - start };
  }

  it('the identity token request gives up at its deadline with a reason naming the server', async () => {
    const { error, elapsed } = await within(cloudBuildPlatform.identityToken({ ...TRIGGERED, GCE_METADATA_HOST: host })({ signal: AbortSignal.timeout(300) }));
    assert.equal((error as { code?: string }).code, 'IDENTITY_TOKEN_UNAVAILABLE');
    assert.match(error.message, new RegExp(`^metadata server ${host} unreachable`));
    assert.ok(elapsed < 5000, `${elapsed} ms`);
  });

  it('the access token and builds.get give up at their deadline, naming what did not answer', async () => {
    const token = await within(metadataAccessToken(host, AbortSignal.timeout(300)));
    assert.equal((token.error as { code?: string }).code, 'CLOUD_BUILD_API_UNAVAILABLE');
    assert.match(token.error.message, new RegExp(`^metadata server ${host} unreachable for an access token`));
    assert.ok(token.elapsed < 5000, `${token.elapsed} ms`);
    const record = await within(readBuildRecord({ api: `http://${host}`, projectId: 'acme-ml', location: 'us-central1', buildId: 'b1', accessToken: 't', signal: AbortSignal.timeout(300) }));
    assert.equal((record.error as { code?: string }).code, 'CLOUD_BUILD_API_UNAVAILABLE');
    assert.match(record.error.message, new RegExp(`^Cloud Build API http://${host} unreachable reading build b1`));
    assert.ok(record.elapsed < 5000, `${record.elapsed} ms`);
  });
});
