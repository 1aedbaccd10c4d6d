// slsa-ml's step in a Google Cloud Build build, end to end: `slsa-ml attest-ci --platform
// cloud-build gs://…` as its own process with a triggered build's environment, the metadata
// server issuing the build's service account's tokens, the Cloud Build API holding the build's
// record (stand-ins in test/support), Fulcio and Rekor from
// @sigstore/mock (SAN = the token's email, as real Fulcio does for accounts.google.com), the
// model in fake-gcs-server. Judged by slsa-ml verify and cosign; then the same with Cloud KMS.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { X509Certificate } from '@sigstore/core';

import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { BUILD, startCloudBuildStep, triggeredBuildEnv, type CloudBuildStep } from '../support/cloud-build-step.ts';
import { cli, failedChecks } from '../support/cli.ts';
import { cosignVerifyAttestation } from '../support/cosign.ts';
import { startKmsStandin, type KmsStandin } from '../support/kms-standin.ts';
import { GOOGLE_ISSUER } from '../support/metadata-server.ts';
import { startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';

const execFileAsync = promisify(execFile);
const SIBLINGS = ['sigstore.json', 'intoto.jsonl', 'sig'] as const;

let scratch: string;
let mock: SigstoreMock;
let step: CloudBuildStep;
let kms: KmsStandin;
let trustedRoot: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-cloud-build-test-'));
  mock = await startSigstoreMock({ subjectClaim: 'email' });
  step = await startCloudBuildStep(mock, triggeredBuildEnv({ _BUCKET: testEnv().bucket }));
  kms = await startKmsStandin();
  trustedRoot = join(scratch, 'trusted_root.json');
  await writeFile(trustedRoot, JSON.stringify(mock.trustedRoot));
});
after(async () => {
  await step?.close();
  await kms?.close();
  stopSigstoreMock();
  await rm(scratch, { recursive: true, force: true });
});

const bucket = () => testEnv().storageClient().bucket(testEnv().bucket);
const gs = (name: string) => `gs://${testEnv().bucket}/${name}`;

/** The model the training step wrote: gs://$_BUCKET/<prefix>/models/$BUILD_ID/pytorch_model.pth. */
async function trainedModel(prefix: string): Promise<string> {
  const name = `${uniqueName(prefix)}/models/${BUILD.buildId}/pytorch_model.pth`;
  await bucket().file(name).save(randomBytes(50_000), { resumable: false });
  return name;
}

async function download(name: string): Promise<string> {
  const path = join(scratch, `${uniqueName('dl')}-${name.split('/').pop() ?? 'object'}`);
  await bucket().file(name).download({ destination: path });
  return path;
}

async function statementOf(name: string): Promise<{ predicate: { buildDefinition: Record<string, unknown>; runDetails: { builder: { id: string }; metadata: { invocationId: string } } } }> {
  const [envelope] = await bucket().file(`${name}.intoto.jsonl`).download();
  return JSON.parse(Buffer.from((JSON.parse(envelope.toString('utf8')) as { payload: string }).payload, 'base64').toString('utf8')) as never;
}

const attestCi = (name: string, ...signer: string[]): string[] => [
  'attest-ci', '--platform', 'cloud-build', gs(name), '--gcs-endpoint', testEnv().gcsEndpoint,
  '--frameworks', '["pkg:pypi/torch@2.10.0"]', '--json', ...signer,
];

const verifyKeyless = (name: string, identity: string): Promise<{ code: number; stdout: string }> => cli([
  'verify', gs(name), '--json', '--gcs-endpoint', testEnv().gcsEndpoint, '--trusted-root', trustedRoot,
  '--certificate-identity', identity, '--certificate-oidc-issuer', GOOGLE_ISSUER,
]);

describe('when the Cloud Build step signs keyless as the build\'s service account', () => {
  let name: string;
  let first: { code: number; stdout: string; stderr: string };

  before(async () => {
    name = await trainedModel('cb-keyless');
    first = await step.run(attestCi(name, '--fulcio-url', step.fulcioURL, '--rekor-url', step.rekorURL));
  });

  it('writes MODEL.sigstore.json, MODEL.intoto.jsonl and MODEL.sig next to the model in GCS', async () => {
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const written = JSON.parse(first.stdout) as Record<string, string>;
    assert.equal(written.platform, 'cloud-build');
    assert.equal(written.bundle, `${gs(name)}.sigstore.json`);
    assert.equal(written.signature, `${gs(name)}.sig`);
    for (const suffix of SIBLINGS) assert.ok((await bucket().file(`${name}.${suffix}`).exists())[0], `${name}.${suffix}`);
  });

  it('asked the metadata server (Metadata-Flavor: Google) for a full-format token with audience sigstore', () => {
    assert.ok(step.metadata.requests.length > 0);
    assert.ok(step.metadata.requests.every((r) => r.flavored && r.audience === 'sigstore' && r.format === 'full'));
  });

  it('the certificate names the service account, issued by accounts.google.com; the statement is of the cloud-build buildType', async () => {
    const [bundleBytes] = await bucket().file(`${name}.sigstore.json`).download();
    const bundle = JSON.parse(bundleBytes.toString('utf8')) as { verificationMaterial: { certificate: { rawBytes: string } } };
    const cert = X509Certificate.parse(Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'));
    assert.equal(cert.subjectAltName, BUILD.serviceAccount);
    const { buildDefinition, runDetails } = (await statementOf(name)).predicate;
    assert.equal(buildDefinition.buildType, 'https://slsa-ml.dev/buildtypes/cloud-build/v1');
    const internal = buildDefinition.internalParameters as { cloudBuild: Record<string, string>; recordedFrom: Record<string, string[]> };
    assert.equal(internal.cloudBuild.serviceAccount, BUILD.serviceAccount);
    assert.deepEqual(internal.recordedFrom.identityToken, ['email']);
    // The build's facts are Cloud Build's record, read with the service account's access token.
    assert.deepEqual(step.api.requests.at(-1), { path: `/v1/projects/${BUILD.projectId}/locations/${BUILD.location}/builds/${BUILD.buildId}`, authorized: true });
    assert.ok(internal.recordedFrom.cloudBuildApi?.includes('substitutions.TRIGGER_NAME'));
    assert.equal(internal.cloudBuild.workerPool, `projects/${BUILD.projectId}/locations/${BUILD.location}/workerPools/training-pool`);
    assert.deepEqual((buildDefinition.externalParameters as { substitutions: unknown }).substitutions, { _BUCKET: testEnv().bucket });
    assert.equal(runDetails.metadata.invocationId, `https://cloudbuild.googleapis.com/v1/projects/${BUILD.projectId}/locations/${BUILD.location}/builds/${BUILD.buildId}`);
  });

  it('slsa-ml verify passes for the service account and fails for another identity', async () => {
    const right = await verifyKeyless(name, BUILD.serviceAccount);
    assert.equal(right.code, 0, right.stdout);
    const other = await verifyKeyless(name, 'someone-else@acme-ml.iam.gserviceaccount.com');
    assert.notEqual(other.code, 0);
    assert.ok(Object.keys(failedChecks(other.stdout)).length > 0, other.stdout);
  });

  it('slsa-ml verify --cloud-build-service-account pins the same identity', async () => {
    const verify = (account: string) => cli(['verify', gs(name), '--json', '--gcs-endpoint', testEnv().gcsEndpoint, '--trusted-root', trustedRoot, '--cloud-build-service-account', account]);
    const right = await verify(BUILD.serviceAccount);
    assert.equal(right.code, 0, right.stdout);
    const other = await verify('someone-else@acme-ml.iam.gserviceaccount.com');
    assert.notEqual(other.code, 0, other.stdout);
  });

  it('cosign verify-blob-attestation accepts it with --certificate-identity and --certificate-oidc-issuer, and refuses another identity', async () => {
    const cosign = requireTool(toolPaths().cosign, 'cosign');
    const model = await download(name);
    const bundle = await download(`${name}.sigstore.json`);
    const argv = (identity: string): string[] => [
      'verify-blob-attestation', '--bundle', bundle, '--new-bundle-format', '--trusted-root', trustedRoot,
      '--certificate-identity', identity, '--certificate-oidc-issuer', GOOGLE_ISSUER, '--type', 'slsaprovenance1', model,
    ];
    const env = { PATH: process.env.PATH ?? '', HOME: scratch, TUF_ROOT: join(scratch, 'tuf') };
    const ok = await execFileAsync(cosign, argv(BUILD.serviceAccount), { env, timeout: 60_000 }).then((r) => ({ ok: true, out: r.stderr }), (e: { stderr?: string }) => ({ ok: false, out: e.stderr ?? '' }));
    assert.ok(ok.ok, ok.out);
    const wrong = await execFileAsync(cosign, argv('someone-else@acme-ml.iam.gserviceaccount.com'), { env, timeout: 60_000 }).then(() => true, () => false);
    assert.equal(wrong, false);
  });

  it('writes create-only: a second run of the step is refused and changes nothing', async () => {
    const before = await Promise.all(SIBLINGS.map(async (s) => (await bucket().file(`${name}.${s}`).getMetadata())[0].generation));
    const again = await step.run(attestCi(name, '--fulcio-url', step.fulcioURL, '--rekor-url', step.rekorURL));
    assert.equal(again.code, 1, again.stdout + again.stderr);
    assert.match(again.stderr, /refused/);
    const now = await Promise.all(SIBLINGS.map(async (s) => (await bucket().file(`${name}.${s}`).getMetadata())[0].generation));
    assert.deepEqual(now, before);
  });
});

describe('when the Cloud Build step signs with a Cloud KMS key, recording the environment\'s word only', () => {
  it('writes the three files without asking for a token or the API; slsa-ml verify --kms and cosign with the key accept them', async () => {
    const name = await trainedModel('cb-kms');
    const asked = step.metadata.requests.length;
    const read = step.api.requests.length;
    const run = await step.run(attestCi(name, '--kms', kms.keyName, '--kms-endpoint', kms.endpoint), { SLSA_ML_CLOUD_BUILD_API: 'off' });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(step.metadata.requests.length, asked, 'no identity token is needed to sign with KMS');
    assert.equal(step.api.requests.length, read, 'SLSA_ML_CLOUD_BUILD_API=off: the API is not read');
    for (const suffix of SIBLINGS) assert.ok((await bucket().file(`${name}.${suffix}`).exists())[0], `${name}.${suffix}`);
    const internal = (await statementOf(name)).predicate.buildDefinition.internalParameters as { cloudBuild: Record<string, string>; recordedFrom: Record<string, string[]> };
    // Without a token the service account is the environment's word, and says so.
    assert.equal(internal.cloudBuild.serviceAccount, BUILD.serviceAccount);
    assert.ok(internal.recordedFrom.environment?.includes('SERVICE_ACCOUNT_EMAIL'));

    const verified = await cli(['verify', gs(name), '--json', '--gcs-endpoint', testEnv().gcsEndpoint, '--kms', kms.keyName, '--kms-endpoint', kms.endpoint]);
    assert.equal(verified.code, 0, verified.stdout);
    const publicKeyPath = join(scratch, 'kms.pub');
    await writeFile(publicKeyPath, kms.publicKeyPem);
    const cosign = await cosignVerifyAttestation({ publicKeyPath, bundlePath: await download(`${name}.sigstore.json`), artifact: { file: await download(name) } });
    assert.ok(cosign.ok, cosign.output);
  });
});

describe('when the build config lacks automapSubstitutions', () => {
  it('the step fails naming the missing variable and how to get it, and writes nothing', async () => {
    const name = await trainedModel('cb-noautomap');
    // Without automapSubstitutions a step sees only what Cloud Build itself sets.
    const unmapped = Object.fromEntries(Object.keys(triggeredBuildEnv()).filter((k) => k !== 'BUILD_ID' && k !== 'PROJECT_ID').map((k) => [k, undefined]));
    const run = await step.run(attestCi(name, '--kms', kms.keyName, '--kms-endpoint', kms.endpoint), { ...unmapped, _BUCKET: undefined });
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /^slsa-ml attest-ci: Cloud Build variable PROJECT_NUMBER is not set: add "options: automapSubstitutions: true" to cloudbuild.yaml/);
    for (const suffix of SIBLINGS) assert.equal((await bucket().file(`${name}.${suffix}`).exists())[0], false);
  });
});
