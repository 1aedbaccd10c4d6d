// slsa-ml's GitLab CI/CD component as a GitLab job runs it (test/support/gitlab-job.ts): the
// component's script with its inputs interpolated, the job's CI_* variables, its ID token signed
// by a GitLab OIDC stand-in, and Fulcio's gitlab-pipeline provider around @sigstore/mock's CA.
// What it signed is then judged by `slsa-ml verify` with the GitLab identity flags, and by cosign.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { X509Certificate } from '@sigstore/core';
import { parse } from 'yaml';

import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli, failedChecks } from '../support/cli.ts';
import { gitlabFulcioHandler } from '../support/fulcio-gitlab.ts';
import { GITLAB_CLAIMS, GITLAB_ISSUER, gitlabClaims, startGitlabOidc, type GitlabOidc } from '../support/gitlab-oidc.ts';
import { COMPONENT, interpolate, readComponent, startGitlabJobRunner, withDefaults, type GitlabJobRunner, type JobRun } from '../support/gitlab-job.ts';
import { startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';

const run = promisify(execFile);
const SAN = `https://${GITLAB_CLAIMS.ci_config_ref_uri}`;

let root: string;
let mock: SigstoreMock;
let oidc: GitlabOidc;
let runner: GitlabJobRunner;
let trustedRoot: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-gitlab-'));
  oidc = startGitlabOidc();
  mock = await startSigstoreMock({ fulcio: (ca) => gitlabFulcioHandler(ca, { oidc }) });
  runner = await startGitlabJobRunner(mock, oidc, root);
  trustedRoot = join(root, 'trusted_root.json');
  await writeFile(trustedRoot, JSON.stringify(mock.trustedRoot));
});
after(async () => {
  await runner.close();
  stopSigstoreMock();
  await rm(root, { recursive: true, force: true });
});

const FRAMEWORKS = '["pkg:pypi/torch@2.10.0","pkg:pypi/numpy@2.3.5"]';
const DATASET = `{"uri":"https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz","digest":"sha256:${'6d'.repeat(32)}"}`;

/** The component in a job after a training job whose artifacts are model/ and results/. */
function signJob(claims = gitlabClaims(), inputs: Record<string, unknown> = {}, extra: { env?: Record<string, string | undefined>; tokenClaims?: Record<string, unknown> } = {}): Promise<JobRun> {
  return runner.run({
    claims,
    inputs: { model: 'model/pytorch_model.pth', needs: ['train'], frameworks: '@results/FRAMEWORKS', dataset: '@results/dataset_ARTIFACT_INPUTS', ...runner.sigstoreInputs, ...inputs },
    files: { 'model/pytorch_model.pth': randomBytes(4096), 'results/FRAMEWORKS': FRAMEWORKS, 'results/dataset_ARTIFACT_INPUTS': DATASET },
    ...extra,
  });
}

/** Neither the job's ID token nor its payload or signature part appears in what the job printed. */
function assertTokenNotPrinted(job: JobRun): void {
  assert.ok(job.idTokens.length > 0, 'the job was given an ID token');
  const printed = job.stdout + job.stderr;
  for (const token of job.idTokens) {
    const [, payload = '', signature = ''] = token.split('.');
    for (const part of [token, payload, signature].filter((p) => p.length > 0)) assert.equal(printed.includes(part), false, 'the job printed its ID token');
  }
}

const model = (job: JobRun): string => join(job.projectDir, 'model', 'pytorch_model.pth');
const provenance = (job: JobRun, suffix: string): string => join(job.projectDir, 'slsa-ml-provenance', `pytorch_model.pth${suffix}`);

function verify(job: JobRun, ...flags: string[]): ReturnType<typeof cli> {
  return cli(['verify', model(job), '--provenance', provenance(job, '.sigstore.json'), '--model-signature', provenance(job, '.sig'), '--trusted-root', trustedRoot, ...flags]);
}

async function statementOf(path: string): Promise<{ subject: Array<{ name: string }>; predicate: { buildDefinition: Record<string, unknown>; runDetails: { builder: { id: string }; metadata: { invocationId: string } } } }> {
  const envelope = JSON.parse(await readFile(path, 'utf8')) as { payload: string };
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as never;
}

describe('when the component signs a model from the training job\'s artifacts', () => {
  let job: JobRun;

  before(async () => {
    job = await signJob();
  });

  it('writes MODEL.sigstore.json, MODEL.intoto.jsonl and MODEL.sig into its artifacts folder', async () => {
    assert.equal(job.code, 0, job.stdout + job.stderr);
    assert.deepEqual((await readdir(join(job.projectDir, 'slsa-ml-provenance'))).sort(), ['pytorch_model.pth.intoto.jsonl', 'pytorch_model.pth.sig', 'pytorch_model.pth.sigstore.json']);
  });

  it('never prints the ID token', () => {
    assertTokenNotPrinted(job);
  });

  it('the certificate names the project\'s pipeline definition at its ref, with Fulcio\'s GitLab extensions', async () => {
    const bundle = JSON.parse(await readFile(provenance(job, '.sigstore.json'), 'utf8')) as { verificationMaterial: { certificate: { rawBytes: string } } };
    const cert = X509Certificate.parse(Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'));
    assert.equal(cert.subjectAltName, SAN);
    const ext = (n: number): string | undefined => cert.extension(`1.3.6.1.4.1.57264.1.${n}`)?.valueObj.subs[0]?.value.toString('utf8');
    assert.equal(ext(12), 'https://gitlab.com/acme/models');
    assert.equal(ext(14), 'refs/heads/main');
    assert.equal(ext(11), 'gitlab-hosted');
    assert.equal(ext(21), 'https://gitlab.com/acme/models/-/jobs/1234567');
  });

  it('the statement describes the job with the gitlab-ci buildType, from the token\'s claims', async () => {
    const statement = await statementOf(provenance(job, '.intoto.jsonl'));
    const { buildDefinition, runDetails } = statement.predicate;
    assert.equal(buildDefinition.buildType, 'https://slsa-ml.dev/buildtypes/gitlab-ci/v1');
    assert.deepEqual(statement.subject.map((s) => s.name), ['pytorch_model.pth']);
    assert.deepEqual(buildDefinition.externalParameters, { project: 'https://gitlab.com/acme/models', ref: 'refs/heads/main', pipelineSource: 'push', config: SAN });
    const internal = buildDefinition.internalParameters as { factsFrom: string; gitlab: Record<string, string>; ciVariables: Record<string, string> };
    assert.equal(internal.factsFrom, 'id_token');
    assert.equal(internal.gitlab.pipeline_url, 'https://gitlab.com/acme/models/-/pipelines/987654');
    assert.equal(internal.gitlab.runner_environment, 'gitlab-hosted');
    assert.equal(internal.gitlab.runner_id, '12270837');
    assert.deepEqual(internal.ciVariables, { CI_JOB_IMAGE: 'ghcr.io/slsa-ml/slsa-ml:v0.1.0' });
    const deps = buildDefinition.resolvedDependencies as Array<{ name?: string; uri: string; digest?: Record<string, string> }>;
    assert.deepEqual(deps[0], { name: 'source', uri: 'git+https://gitlab.com/acme/models@refs/heads/main', digest: { gitCommit: GITLAB_CLAIMS.sha } });
    assert.deepEqual(deps.slice(1).map((d) => d.uri), ['https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz', 'pkg:pypi/torch@2.10.0', 'pkg:pypi/numpy@2.3.5']);
    assert.equal(runDetails.builder.id, SAN);
    assert.equal(runDetails.metadata.invocationId, 'https://gitlab.com/acme/models/-/jobs/1234567');
  });

  it('slsa-ml verify accepts it for --gitlab-project acme/models --gitlab-ref refs/heads/main and says project, ref, pipeline and runner', async () => {
    const result = await verify(job, '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^pipeline +https:\/\/gitlab\.com\/acme\/models\/-\/pipelines\/987654 \(the statement's word\), job https:\/\/gitlab\.com\/acme\/models\/-\/jobs\/1234567, push/m);
    assert.match(result.stdout, /^signer .*GitLab project acme\/models at refs\/heads\/main, job https:\/\/gitlab\.com\/acme\/models\/-\/jobs\/1234567, gitlab-hosted runner\)$/m);
    assert.match(result.stdout, /PASS +certificate +project acme\/models, ref refs\/heads\/main/);
    assert.match(result.stdout, /^model signature .*\n( {2}PASS .*\n)+ {2}signer .*\nVERIFIED$/m);
  });

  it('and with the explicit certificate identity and issuer', async () => {
    const result = await verify(job, '--certificate-identity', SAN, '--certificate-oidc-issuer', GITLAB_ISSUER);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  it('refuses another project, another ref or another GitLab instance, naming whom the certificate was issued to', async () => {
    const other = await verify(job, '--json', '--gitlab-project', 'acme/other', '--gitlab-ref', 'refs/heads/main');
    assert.equal(other.code, 1);
    assert.deepEqual(failedChecks(other.stdout), { signature: 'IDENTITY_MISMATCH' });
    assert.match(other.stdout, /GitLab project acme\/models at refs\/heads\/main, gitlab-hosted runner, not GitLab project acme\/other at refs\/heads\/main/);
    const ref = await verify(job, '--json', '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/release');
    assert.deepEqual(failedChecks(ref.stdout), { signature: 'IDENTITY_MISMATCH' });
    const host = await verify(job, '--json', '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main', '--gitlab-host', 'gitlab.example.com');
    assert.deepEqual(failedChecks(host.stdout), { signature: 'IDENTITY_MISMATCH' });
  });

  it('cosign verify-blob-attestation accepts it with the certificate identity flags, and refuses another project', async () => {
    const cosign = requireTool(toolPaths().cosign, 'cosign');
    const argv = (identity: string): string[] => [
      'verify-blob-attestation', '--bundle', provenance(job, '.sigstore.json'), '--new-bundle-format', '--trusted-root', trustedRoot,
      '--certificate-identity-regexp', identity, '--certificate-oidc-issuer', GITLAB_ISSUER, '--type', 'slsaprovenance1', model(job),
    ];
    const env = { PATH: process.env.PATH ?? '', HOME: root, TUF_ROOT: join(root, 'tuf') };
    const ok = await run(cosign, argv('^https://gitlab\\.com/acme/models//[^@]+@refs/heads/main$'), { env, timeout: 60_000 }).then((r) => ({ ok: true, out: r.stderr }), (e: { stderr?: string }) => ({ ok: false, out: e.stderr ?? '' }));
    assert.ok(ok.ok, ok.out);
    const wrong = await run(cosign, argv('^https://gitlab\\.com/acme/other//[^@]+@refs/heads/main$'), { env, timeout: 60_000 }).then(() => true, () => false);
    assert.equal(wrong, false);
  });

  it('a second run refuses to overwrite, naming the file', async () => {
    const again = await runner.run({
      claims: gitlabClaims(),
      inputs: { model: 'model/pytorch_model.pth', needs: ['train'], ...runner.sigstoreInputs },
      files: { 'model/pytorch_model.pth': 'x', 'slsa-ml-provenance/pytorch_model.pth.sigstore.json': '{}' },
    });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refused: .*pytorch_model\.pth\.sigstore\.json already exists; provenance is never overwritten/);
    assertTokenNotPrinted(again);
  });
});

describe('when the pipeline is not the one the verifier pins', () => {
  it('a fork\'s pipeline (its own project_path) fails --gitlab-project of the original', async () => {
    const job = await signJob(gitlabClaims({ project_path: 'mallory/models', namespace_path: 'mallory', project_id: '666', namespace_id: '600' }));
    assert.equal(job.code, 0, job.stdout + job.stderr);
    const result = await verify(job, '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /FAIL +signature .*GitLab project mallory\/models at refs\/heads\/main.*, not GitLab project acme\/models at refs\/heads\/main/);
  });

  it('another branch\'s pipeline fails --gitlab-ref refs/heads/main, and a tag pattern accepts a tag\'s', async () => {
    const branch = await signJob(gitlabClaims({ ref: 'feature-x', ref_protected: 'false' }));
    assert.equal(branch.code, 0, branch.stderr);
    const result = await verify(branch, '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /at refs\/heads\/feature-x/);
    const tag = await signJob(gitlabClaims({ ref: 'v1.2.0', ref_type: 'tag', pipeline_source: 'push' }));
    assert.equal(tag.code, 0, tag.stderr);
    assert.equal((await verify(tag, '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/tags/v*')).code, 0);
  });

  it('a merge-request pipeline of a fork\'s branch named main fails --gitlab-ref refs/heads/main unless merge-request pipelines are allowed', async () => {
    // GitLab runs it as the parent project, and names its ref after the source branch: the SAN is
    // the protected main's, https://gitlab.com/acme/models//.gitlab-ci.yml@refs/heads/main.
    const job = await signJob(gitlabClaims({ pipeline_source: 'merge_request_event', ref: 'main', ref_protected: 'false' }));
    assert.equal(job.code, 0, job.stdout + job.stderr);
    const refused = await verify(job, '--json', '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main');
    assert.equal(refused.code, 1);
    assert.deepEqual(failedChecks(refused.stdout), { signature: 'MERGE_REQUEST_PIPELINE' });
    assert.match(refused.stdout, /merge-request pipeline \(GitLab project acme\/models at refs\/heads\/main, job https:\/\/gitlab\.com\/acme\/models\/-\/jobs\/1234567\).*--gitlab-allow-merge-request-pipelines/);
    const human = await verify(job, '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main');
    assert.match(human.stdout, /FAIL +signature +the certificate was issued to a merge-request pipeline/);
    assert.doesNotMatch(human.stdout, /^pipeline /m, 'nothing of the statement is shown');
    const allowed = await verify(job, '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main', '--gitlab-allow-merge-request-pipelines');
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    assert.match(allowed.stdout, /merge_request_event/);
    const cosignStyle = await verify(job, '--certificate-identity', SAN, '--certificate-oidc-issuer', GITLAB_ISSUER);
    assert.equal(cosignStyle.code, 1, 'refused with the explicit identity too');
  });

  it('a self-managed runner verifies with a warning that says so', async () => {
    const job = await signJob(gitlabClaims({ runner_environment: 'self-hosted' }));
    assert.equal(job.code, 0, job.stderr);
    const result = await verify(job, '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main');
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /WARN +certificate +.*self-managed runner \(runner_environment self-hosted\)/);
    assert.match(result.stdout, /^signer .*self-managed runner\)$/m);
  });

  it('a job whose CI variables contradict its token refuses before signing', async () => {
    const job = await signJob(gitlabClaims(), {}, { env: { CI_PROJECT_PATH: 'acme/other' } });
    assert.equal(job.code, 2);
    assert.match(job.stderr, /CI_PROJECT_PATH=acme\/other but the ID token's project_path claim is acme\/models/);
    assertTokenNotPrinted(job);
    assert.deepEqual(await readdir(job.projectDir).then((d) => d.sort()), ['model', 'results']);
  });

  it('a token the issuer did not sign gets no certificate', async () => {
    const forged = startGitlabOidc();
    const job = await runner.run({
      claims: gitlabClaims(),
      inputs: { model: 'model/pytorch_model.pth', needs: ['train'], ...runner.sigstoreInputs },
      files: { 'model/pytorch_model.pth': 'x' },
      env: { SIGSTORE_ID_TOKEN: forged.token({ ...gitlabClaims(), aud: 'sigstore' }) },
    });
    assert.notEqual(job.code, 0);
    assert.match(job.stderr, /401|JWKS/);
    assertTokenNotPrinted(job);
  });
});

describe('when the model is in Cloud Storage', () => {
  it('measures it there and writes the three files next to it, create-only', async () => {
    const env = testEnv();
    const prefix = uniqueName('gitlab-ci');
    const bytes = randomBytes(2048);
    await env.storageClient().bucket(env.bucket).file(`${prefix}/pytorch_model.pth`).save(bytes);
    const uri = `gs://${env.bucket}/${prefix}/pytorch_model.pth`;
    const job = await runner.run({ claims: gitlabClaims(), inputs: { model: uri, needs: [], ...runner.sigstoreInputs }, env: { SLSA_ML_GCS_ENDPOINT: env.gcsEndpoint } });
    assert.equal(job.code, 0, job.stdout + job.stderr);
    const [files] = await env.storageClient().bucket(env.bucket).getFiles({ prefix });
    assert.deepEqual(files.map((f) => f.name).sort(), ['pytorch_model.pth', 'pytorch_model.pth.intoto.jsonl', 'pytorch_model.pth.sig', 'pytorch_model.pth.sigstore.json'].map((n) => `${prefix}/${n}`));
    const verified = await cli(['verify', uri, '--gcs-endpoint', env.gcsEndpoint, '--trusted-root', trustedRoot, '--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main']);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const again = await runner.run({ claims: gitlabClaims(), inputs: { model: uri, needs: [], ...runner.sigstoreInputs }, env: { SLSA_ML_GCS_ENDPOINT: env.gcsEndpoint } });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refused: gs:\/\/.*already exists/);
  });
});

// gitlab-ci-local (a real GitLab CI/CD configuration parser and runner) reads the example and the
// component as GitLab would. It cannot run the component's job keyless: it does not implement
// id_tokens (SIGSTORE_ID_TOKEN stays unset) and sets GITLAB_CI=false, so the job above is simulated.
describe('when gitlab-ci-local reads the example pipeline', () => {
  it('includes the component with include: component:, accepts both against GitLab\'s schema, and interpolates the inputs as the simulated job does', async () => {
    const project = await mkdtemp(join(root, 'gitlab-ci-local-'));
    const git = (...args: string[]): Promise<{ stdout: string }> => run('git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', ...args], { cwd: project });
    await git('init', '-q');
    // A component is local to gitlab-ci-local when its project is the checkout's remote, at HEAD.
    await git('remote', 'add', 'origin', 'git@gitlab.com:slsa-ml/slsa-ml.git');
    await mkdir(join(project, 'templates'));
    await copyFile(COMPONENT, join(project, 'templates', 'provenance.yml'));
    await git('add', '-A');
    await git('commit', '-qm', 'component');
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    const example = await readFile(join(import.meta.dirname, '..', '..', 'examples', 'gitlab', '.gitlab-ci.yml'), 'utf8');
    assert.match(example, /provenance@v0\.1\.0$/m);
    await writeFile(join(project, '.gitlab-ci.yml'), example.replace(/provenance@v0\.1\.0$/m, `provenance@${head}`));
    const bin = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'gitlab-ci-local');
    const { stdout } = await run(bin, ['--preview'], { cwd: project, env: { PATH: process.env.PATH ?? '', HOME: project }, timeout: 60_000 });
    const pipeline = parse(stdout.slice(stdout.indexOf('---'))) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(pipeline).filter((k) => !['stages', 'variables'].includes(k)).sort(), ['slsa-ml-provenance', 'train-cifar10', 'verify-cifar10']);
    const component = await readComponent();
    const inputs = (parse(example) as { include: Array<{ inputs: Record<string, unknown> }> }).include[0]?.inputs ?? {};
    const ours = interpolate(Object.values(component.jobs)[0], withDefaults(component, inputs)) as Record<string, unknown>;
    const theirs = pipeline['slsa-ml-provenance'] ?? {};
    for (const key of ['stage', 'image', 'id_tokens', 'variables', 'script', 'artifacts']) assert.deepEqual(theirs[key], ours[key], key);
    // gitlab-ci-local writes needs in their long form.
    assert.deepEqual(theirs.needs, [{ job: 'train-cifar10', artifacts: true, optional: false }]);
  });
});
