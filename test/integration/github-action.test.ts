// The slsa-ml action as GitHub runs it: `node src/action/main.ts` with the runner's variables,
// the job's OIDC token from a local endpoint, Fulcio and Rekor from @sigstore/mock. Its output
// is then judged by `slsa-ml verify` (keyless, the reusable workflow as the identity), cosign and,
// for the model-signing signature beside it, the model_signing CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { X509Certificate } from '@sigstore/core';
import { parse } from 'yaml';

import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli, failedChecks } from '../support/cli.ts';
import { sigstoreInputs, startActionsRunner, type ActionRun, type ActionsRunner } from '../support/github-actions-runner.ts';
import { GITHUB_ACTIONS_ISSUER, GITHUB_CLAIMS, GITHUB_SAN_CLAIM, startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';
import { clientTrustConfig, modelSigningVerify } from '../support/signing-verifiers.ts';

const run = promisify(execFile);
const BUILDER = `https://github.com/${GITHUB_CLAIMS.job_workflow_ref}`;

let root: string;
let mock: SigstoreMock;
let runner: ActionsRunner;
let trustedRoot: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-action-'));
  mock = await startSigstoreMock({ subjectClaim: GITHUB_SAN_CLAIM });
  runner = await startActionsRunner(mock);
  trustedRoot = join(root, 'trusted_root.json');
  await writeFile(trustedRoot, JSON.stringify(mock.trustedRoot));
});
after(async () => {
  await runner.close();
  stopSigstoreMock();
  await rm(root, { recursive: true, force: true });
});

/** What the example workflow's train job does: sha256sum over the model's files, base64. */
async function subjectsOf(parent: string, model: string): Promise<string> {
  const script = 'find "$1" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | base64 -w0';
  return (await run('bash', ['-c', script, 'subjects', model], { cwd: parent })).stdout;
}

async function newModel(name: string, bytes = 4096): Promise<{ dir: string; path: string }> {
  const dir = join(root, uniqueName('run'));
  await mkdir(dir);
  const path = join(dir, name);
  await writeFile(path, randomBytes(bytes));
  return { dir, path };
}

function sign(dir: string, subjects: string, inputs: Record<string, string> = {}, env: Record<string, string | undefined> = {}): Promise<ActionRun> {
  return runner.run({ inputs: { subjects, 'output-dir': dir, ...sigstoreInputs(runner), ...inputs }, env });
}

const verifyArgs = (model: string, ...flags: string[]): string[] => [
  'verify', model, '--json', '--certificate-oidc-issuer', GITHUB_ACTIONS_ISSUER, '--trusted-root', trustedRoot, ...flags,
];

describe('when the action signs a file model', () => {
  let model: { dir: string; path: string };
  let result: ActionRun;

  before(async () => {
    model = await newModel('pytorch_model.pth');
    result = await sign(model.dir, await subjectsOf(model.dir, 'pytorch_model.pth'), {
      frameworks: '["pkg:pypi/torch@2.10.0","pkg:pypi/numpy@2.3.5"]',
      dataset: `{"uri":"https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz","digest":"sha256:${'6d'.repeat(32)}"}`,
      'training-runner': '{"os":"Linux","arch":"X64","name":"gpu-runner-1"}',
    });
  });

  it('writes <model>.sigstore.json, <model>.intoto.jsonl and <model>.sig and names them in its outputs', () => {
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(result.outputs.model, 'pytorch_model.pth');
    assert.equal(result.outputs['bundle-path'], `${model.path}.sigstore.json`);
    assert.equal(result.outputs['envelope-path'], `${model.path}.intoto.jsonl`);
    assert.equal(result.outputs['signature-path'], `${model.path}.sig`);
    assert.equal(result.outputs['gcs-signature-uri'], '');
    assert.equal(result.outputs['builder-id'], BUILDER);
    assert.equal(result.outputs['gcs-bundle-uri'], '');
  });

  it('asks the OIDC endpoint for a token with the sigstore audience, and masks it in the log', () => {
    assert.ok(runner.tokenRequests.every((r) => r.authorized));
    assert.equal(runner.tokenRequests.at(-1)?.audience, 'sigstore');
    const token = runner.lastToken() ?? '';
    const lines = result.stdout.split('\n').filter((l) => l.includes(token));
    assert.deepEqual(lines, [`::add-mask::${token}`]);
  });

  it('the bundle carries a Fulcio certificate for the reusable workflow and a Rekor entry', async () => {
    const bundle = JSON.parse(await readFile(`${model.path}.sigstore.json`, 'utf8')) as {
      verificationMaterial: { certificate?: { rawBytes: string }; tlogEntries: Array<{ kindVersion: { kind: string } }> };
    };
    const cert = X509Certificate.parse(Buffer.from(bundle.verificationMaterial.certificate?.rawBytes ?? '', 'base64'));
    assert.equal(cert.subjectAltName, BUILDER);
    assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
    assert.equal(bundle.verificationMaterial.tlogEntries[0]?.kindVersion.kind, 'dsse');
  });

  it('the statement describes the run with the github-actions buildType', async () => {
    const envelope = JSON.parse(await readFile(`${model.path}.intoto.jsonl`, 'utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
      subject: Array<{ name: string; digest: { sha256: string } }>;
      predicate: { buildDefinition: Record<string, unknown>; runDetails: { builder: { id: string }; metadata: { invocationId: string } } };
    };
    const { buildDefinition, runDetails } = statement.predicate;
    assert.equal(buildDefinition.buildType, 'https://slsa-ml.dev/buildtypes/github-actions/v1');
    assert.deepEqual(statement.subject.map((s) => s.name), ['pytorch_model.pth']);
    assert.deepEqual((buildDefinition.externalParameters as { workflow: unknown }).workflow, {
      ref: 'refs/heads/main', repository: 'https://github.com/acme/models', path: '.github/workflows/train.yml',
    });
    assert.deepEqual((buildDefinition.externalParameters as { trainingRunner: unknown }).trainingRunner, { os: 'Linux', arch: 'X64', name: 'gpu-runner-1' });
    const deps = buildDefinition.resolvedDependencies as Array<{ name?: string; uri: string; digest?: Record<string, string> }>;
    assert.deepEqual(deps[0], { name: 'source', uri: 'git+https://github.com/acme/models@refs/heads/main', digest: { gitCommit: GITHUB_CLAIMS.sha } });
    assert.deepEqual(deps.map((d) => d.uri).slice(1), ['https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz', 'pkg:pypi/torch@2.10.0', 'pkg:pypi/numpy@2.3.5']);
    assert.equal(runDetails.builder.id, BUILDER);
    assert.equal(runDetails.metadata.invocationId, 'https://github.com/acme/models/actions/runs/123/attempts/1');
  });
});

describe('when slsa-ml verify checks what the action signed', () => {
  let model: { dir: string; path: string };

  before(async () => {
    model = await newModel('tensorflow_model.keras');
    const result = await sign(model.dir, await subjectsOf(model.dir, 'tensorflow_model.keras'));
    assert.equal(result.code, 0, result.stdout);
  });

  it('accepts the reusable workflow as the identity, exactly or by pattern, with the source repository and ref', async () => {
    const exact = await cli(verifyArgs(model.path, '--certificate-identity', BUILDER, '--source-repo', 'github.com/acme/models', '--source-ref', 'refs/heads/main'));
    assert.equal(exact.code, 0, exact.stdout);
    const pattern = await cli(verifyArgs(model.path, '--certificate-identity-regexp', '^https://github\\.com/slsa-ml/slsa-ml/\\.github/workflows/provenance\\.yml@refs/tags/v'));
    assert.equal(pattern.code, 0, pattern.stdout);
  });

  it('rejects another identity, e.g. the caller\'s own workflow', async () => {
    const other = await cli(verifyArgs(model.path, '--certificate-identity', 'https://github.com/acme/models/.github/workflows/train.yml@refs/heads/main'));
    assert.equal(other.code, 1);
    assert.deepEqual(failedChecks(other.stdout), { signature: 'IDENTITY_MISMATCH' });
  });

  it('rejects another source repository or ref', async () => {
    const repo = await cli(verifyArgs(model.path, '--certificate-identity', BUILDER, '--source-repo', 'github.com/acme/other'));
    assert.equal(repo.code, 1);
    assert.deepEqual(Object.keys(failedChecks(repo.stdout)), ['sourceRepo']);
    const ref = await cli(verifyArgs(model.path, '--certificate-identity', BUILDER, '--source-ref', 'refs/heads/dev'));
    assert.equal(ref.code, 1);
    assert.deepEqual(Object.keys(failedChecks(ref.stdout)), ['sourceRef']);
  });

  it('rejects the model once one byte changed', async () => {
    const bytes = await readFile(model.path);
    bytes[100] = (bytes[100] ?? 0) ^ 1;
    await writeFile(model.path, bytes);
    const changed = await cli(verifyArgs(model.path, '--certificate-identity', BUILDER));
    assert.equal(changed.code, 1);
    assert.deepEqual(failedChecks(changed.stdout), { subject: 'SUBJECT_MISMATCH' });
  });
});

describe('when the model is a SavedModel directory', () => {
  it('signs the model-signing root digest over the listed files, and verify recomputes it from the folder', async () => {
    const dir = join(root, uniqueName('saved'));
    const model = join(dir, 'tensorflow_saved_model');
    await mkdir(join(model, 'variables'), { recursive: true });
    await writeFile(join(model, 'saved_model.pb'), randomBytes(3000));
    await writeFile(join(model, 'fingerprint.pb'), randomBytes(50));
    await writeFile(join(model, 'variables', 'variables.index'), randomBytes(200));
    await writeFile(join(model, 'variables', 'variables.data-00000-of-00001'), randomBytes(9000));
    const result = await sign(dir, await subjectsOf(dir, 'tensorflow_saved_model'));
    assert.equal(result.code, 0, result.stdout);
    assert.equal(result.outputs['bundle-path'], `${model}.sigstore.json`);
    const verified = await cli(verifyArgs(model, '--certificate-identity', BUILDER));
    assert.equal(verified.code, 0, verified.stdout);
    await writeFile(join(model, 'variables', 'extra'), 'x');
    const added = await cli(verifyArgs(model, '--certificate-identity', BUILDER));
    assert.equal(added.code, 1);
    assert.equal(failedChecks(added.stdout).subject, 'SUBJECT_MISMATCH');
  });
});

describe('when model_signing verifies the model signature', () => {
  it('accepts a file and a SavedModel for the workflow identity (verify sigstore --trust_config) and refuses them once changed, as slsa-ml verify does', async () => {
    const trustConfig = join(root, 'trust_config.json');
    await writeFile(trustConfig, JSON.stringify(clientTrustConfig(mock.trustedRoot, mock)));
    const trust = { kind: 'sigstore', identity: BUILDER, issuer: GITHUB_ACTIONS_ISSUER, trustConfigPath: trustConfig } as const;
    const file = await newModel('model.safetensors');
    assert.equal((await sign(file.dir, await subjectsOf(file.dir, 'model.safetensors'))).code, 0);
    const dir = join(root, uniqueName('saved'));
    const saved = join(dir, 'saved_model');
    await mkdir(join(saved, 'variables'), { recursive: true });
    await writeFile(join(saved, 'saved_model.pb'), randomBytes(300));
    await writeFile(join(saved, 'variables', 'variables.index'), randomBytes(30));
    assert.equal((await sign(dir, await subjectsOf(dir, 'saved_model'))).code, 0);
    for (const path of [file.path, saved]) {
      const verdict = await modelSigningVerify(path, `${path}.sig`, trust);
      assert.ok(verdict.ok, verdict.output);
      const ours = await cli(verifyArgs(path, '--certificate-identity', BUILDER, '--require-model-signature'));
      assert.equal(ours.code, 0, ours.stdout);
    }
    await writeFile(join(saved, 'variables', 'added'), 'x');
    assert.equal((await modelSigningVerify(saved, `${saved}.sig`, trust)).ok, false);
    const ours = JSON.parse((await cli(verifyArgs(saved, '--certificate-identity', BUILDER))).stdout) as { modelSignature: { verified: boolean } };
    assert.equal(ours.modelSignature.verified, false);
  });
});

describe('when cosign verifies the bundle', () => {
  it('accepts it for the workflow identity and the caller repository, and refuses another repository', async () => {
    const cosign = requireTool(toolPaths().cosign, 'cosign');
    const model = await newModel('pytorch_jitted_model.pt');
    const result = await sign(model.dir, await subjectsOf(model.dir, 'pytorch_jitted_model.pt'));
    assert.equal(result.code, 0, result.stdout);
    const argv = (repository: string): string[] => [
      'verify-blob-attestation', '--bundle', `${model.path}.sigstore.json`, '--new-bundle-format', '--trusted-root', trustedRoot,
      '--certificate-identity', BUILDER, '--certificate-oidc-issuer', GITHUB_ACTIONS_ISSUER,
      '--certificate-github-workflow-repository', repository, '--type', 'slsaprovenance1', model.path,
    ];
    const env = { PATH: process.env.PATH ?? '', HOME: root, TUF_ROOT: join(root, 'tuf') };
    const ok = await run(cosign, argv('acme/models'), { env, timeout: 60_000 }).then((r) => ({ ok: true, out: r.stderr }), (e: { stderr?: string }) => ({ ok: false, out: e.stderr ?? '' }));
    assert.ok(ok.ok, ok.out);
    const wrong = await run(cosign, argv('acme/other'), { env, timeout: 60_000 }).then(() => true, () => false);
    assert.equal(wrong, false);
  });
});

describe('when the action must refuse', () => {
  it('without `permissions: id-token: write` it says so and writes nothing', async () => {
    const model = await newModel('pytorch_model.pth');
    const result = await sign(model.dir, await subjectsOf(model.dir, 'pytorch_model.pth'), {}, { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^::error::OIDC_UNAVAILABLE: .*id-token: write/m);
    assert.deepEqual(await filesIn(model.dir), ['pytorch_model.pth']);
  });

  it('names the subjects input when it is not sha256sum output, or lists two models', async () => {
    const model = await newModel('pytorch_model.pth');
    const garbage = await sign(model.dir, Buffer.from('not a digest line\n').toString('base64'));
    assert.equal(garbage.code, 1);
    assert.match(garbage.stdout, /^::error::BAD_INPUT: subjects: line 1: expected/m);
    const two = await sign(model.dir, Buffer.from(`${'a'.repeat(64)}  a.pth\n${'b'.repeat(64)}  b.pth\n`).toString('base64'));
    assert.match(two.stdout, /^::error::BAD_INPUT: subjects: names 2 models/m);
    const badFrameworks = await sign(model.dir, await subjectsOf(model.dir, 'pytorch_model.pth'), { frameworks: '["torch==2.10"]' });
    assert.match(badFrameworks.stdout, /^::error::BAD_INPUT: frameworks: \[0\] is not a package URL/m);
    assert.deepEqual(await filesIn(model.dir), ['pytorch_model.pth']);
  });

  it('never overwrites provenance already in the output folder', async () => {
    const model = await newModel('pytorch_model.pth');
    await writeFile(`${model.path}.sigstore.json`, 'earlier');
    const result = await sign(model.dir, await subjectsOf(model.dir, 'pytorch_model.pth'));
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^::error::PROVENANCE_EXISTS: /m);
    assert.equal(await readFile(`${model.path}.sigstore.json`, 'utf8'), 'earlier');
    assert.deepEqual(await filesIn(model.dir), ['pytorch_model.pth', 'pytorch_model.pth.sigstore.json']);
  });

  it('stops when the GITHUB_* variables contradict the OIDC token', async () => {
    const model = await newModel('pytorch_model.pth');
    const result = await sign(model.dir, await subjectsOf(model.dir, 'pytorch_model.pth'), {}, { GITHUB_SHA: 'f'.repeat(40) });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^::error::ENVIRONMENT_MISMATCH: GITHUB_SHA=f{40} but the OIDC token's sha claim is /m);
  });
});

describe('when the caller gives the model\'s gs:// URI', () => {
  it('measures the stored model, writes the provenance next to it create-only, and refuses a second time', async () => {
    const env = testEnv();
    const prefix = uniqueName('gh-action');
    const model = await newModel('tensorflow_hdf5_model.h5');
    const uri = `gs://${env.bucket}/${prefix}/tensorflow_hdf5_model.h5`;
    await env.storageClient().bucket(env.bucket).upload(model.path, { destination: `${prefix}/tensorflow_hdf5_model.h5` });
    const subjects = await subjectsOf(model.dir, 'tensorflow_hdf5_model.h5');
    const gcsEnv = { SLSA_ML_GCS_ENDPOINT: env.gcsEndpoint };
    const first = await sign(join(model.dir, 'first'), subjects, { 'gcs-uri': uri }, gcsEnv);
    assert.equal(first.code, 0, first.stdout);
    assert.equal(first.outputs['gcs-bundle-uri'], `${uri}.sigstore.json`);
    assert.equal(first.outputs['gcs-envelope-uri'], `${uri}.intoto.jsonl`);
    assert.equal(first.outputs['gcs-signature-uri'], `${uri}.sig`);
    const verified = await cli(verifyArgs(uri, '--certificate-identity', BUILDER, '--gcs-endpoint', env.gcsEndpoint));
    assert.equal(verified.code, 0, verified.stdout);
    const stored = await env.storageClient().bucket(env.bucket).file(`${prefix}/tensorflow_hdf5_model.h5.sigstore.json`).download();
    const again = await sign(join(model.dir, 'second'), subjects, { 'gcs-uri': uri }, gcsEnv);
    assert.equal(again.code, 1);
    assert.match(again.stdout, /^::error::PROVENANCE_EXISTS: gs:\/\//m);
    const after = await env.storageClient().bucket(env.bucket).file(`${prefix}/tensorflow_hdf5_model.h5.sigstore.json`).download();
    assert.ok(after[0].equals(stored[0]));
  });

  it('refuses when the stored model is not the one the subjects describe, and writes nothing', async () => {
    const env = testEnv();
    const prefix = uniqueName('gh-action-mismatch');
    const model = await newModel('pytorch_model.pth');
    await env.storageClient().bucket(env.bucket).file(`${prefix}/pytorch_model.pth`).save(randomBytes(100));
    const uri = `gs://${env.bucket}/${prefix}/pytorch_model.pth`;
    const result = await sign(model.dir, await subjectsOf(model.dir, 'pytorch_model.pth'), { 'gcs-uri': uri }, { SLSA_ML_GCS_ENDPOINT: env.gcsEndpoint });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^::error::DIGEST_MISMATCH: gcs-uri: /m);
    const [files] = await env.storageClient().bucket(env.bucket).getFiles({ prefix });
    assert.deepEqual(files.map((f) => f.name), [`${prefix}/pytorch_model.pth`]);
    assert.deepEqual(await filesIn(model.dir), ['pytorch_model.pth']);
  });
});

describe('when a person dispatched the workflow by hand', () => {
  it('records the workflow_dispatch inputs as external parameters', async () => {
    const dispatch = await startActionsRunner(mock, { event_name: 'workflow_dispatch' });
    try {
      const model = await newModel('pytorch_full_model.pth');
      const result = await dispatch.run({
        inputs: { subjects: await subjectsOf(model.dir, 'pytorch_full_model.pth'), 'output-dir': model.dir, ...sigstoreInputs(dispatch) },
        event: { inputs: { format: 'pytorch_full_model.pth', epochs: '3' } },
      });
      assert.equal(result.code, 0, result.stdout);
      const envelope = JSON.parse(await readFile(`${model.path}.intoto.jsonl`, 'utf8')) as { payload: string };
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate: { buildDefinition: { externalParameters: { inputs?: unknown } } } };
      assert.deepEqual(statement.predicate.buildDefinition.externalParameters.inputs, { format: 'pytorch_full_model.pth', epochs: '3' });
    } finally {
      await dispatch.close();
    }
  });
});

/** `node <main>` with no runner variables at all: exit code and stdout. */
function runMain(main: string, cwd: string): Promise<{ code: number; stdout: string }> {
  return run(process.execPath, [main], { cwd, env: { PATH: process.env.PATH ?? '' } }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
  );
}

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('when the reusable workflow installs the action', () => {
  it('runs with the production dependencies its npm ci step installs, and explains itself without them', async () => {
    const repo = join(import.meta.dirname, '..', '..');
    const workflow = parse(await readFile(join(repo, '.github', 'workflows', 'provenance.yml'), 'utf8')) as {
      jobs: Record<string, { steps: Array<{ run?: string; 'working-directory'?: string }> }>;
    };
    const install = Object.values(workflow.jobs).flatMap((j) => j.steps).find((s) => s.run?.startsWith('npm ci'));
    assert.ok(install?.run?.includes('--omit=dev') && install['working-directory'] === '.slsa-ml', 'the workflow installs production dependencies in its checkout');
    const checkout = join(root, uniqueName('checkout'));
    for (const path of ['package.json', 'package-lock.json', 'action.yml', 'src']) await cp(join(repo, path), join(checkout, path), { recursive: true });
    const main = join(checkout, 'src', 'action', 'main.ts');
    const bare = await runMain(main, checkout);
    assert.equal(bare.code, 1);
    assert.match(bare.stdout, /^::error::slsa-ml's dependencies are not installed .*reusable workflow/m);
    // --prefer-offline: the packages come from the npm cache that `npm ci` filled before the tests.
    await run('sh', ['-c', `${install?.run ?? ''} --prefer-offline`], { cwd: checkout });
    const installed = await runMain(main, checkout);
    assert.equal(installed.code, 1);
    assert.match(installed.stdout, /^::error::BAD_INPUT: subjects: required$/m);
  });
});

describe('when a security responder queries models trained on GitHub Actions', () => {
  it('lists the model trained with the vulnerable framework, with its workflow and run', async () => {
    const dir = join(root, uniqueName('query'));
    await mkdir(dir);
    const models: Record<string, string> = { 'old.pth': '["pkg:pypi/torch@2.5.1"]', 'new.pth': '["pkg:pypi/torch@2.10.0"]' };
    for (const [name, frameworks] of Object.entries(models)) {
      await writeFile(join(dir, name), randomBytes(1000));
      const result = await sign(dir, await subjectsOf(dir, name), { frameworks });
      assert.equal(result.code, 0, result.stdout);
    }
    const trust = ['--certificate-identity', BUILDER, '--certificate-oidc-issuer', GITHUB_ACTIONS_ISSUER, '--trusted-root', trustedRoot];
    const query = (...flags: string[]) => cli(['query', '--under', `${pathToFileURL(dir).href}/`, '--dependency', 'pkg:pypi/torch@<2.6.0', ...trust, ...flags]);
    const json = await query('--json');
    assert.equal(json.code, 1, `exit 1: affected models found\n${json.stdout}${json.stderr}`);
    const answer = JSON.parse(json.stdout) as { verified: number; affected: Array<{ model: string; taskRun: unknown; workflow: unknown; matched: string[] }> };
    assert.equal(answer.verified, 2, json.stdout);
    assert.deepEqual(answer.affected.map((a) => [a.model.split('/').pop(), a.matched, a.taskRun, a.workflow]), [[
      'old.pth', ['pkg:pypi/torch@2.5.1'], null,
      { repository: 'https://github.com/acme/models', path: '.github/workflows/train.yml', ref: 'refs/heads/main', run: 'https://github.com/acme/models/actions/runs/123/attempts/1' },
    ]]);
    const rehashed = JSON.parse((await query('--json', '--check-digests')).stdout) as { verified: number; affected: unknown[] };
    assert.deepEqual([rehashed.verified, rehashed.affected.length], [2, 1]);
    const table = await query();
    assert.match(table.stdout, /old\.pth +github\.com\/acme\/models\/\.github\/workflows\/train\.yml@refs\/heads\/main +https:\/\/github\.com\/acme\/models\/actions\/runs\/123\/attempts\/1 +pkg:pypi\/torch@2\.5\.1/);
  });
});

describe('when the run or the Sigstore URLs would put the provenance at risk', () => {
  it('sends the OIDC token only over https (or to this machine)', async () => {
    const model = await newModel('pytorch_model.pth');
    const tokensBefore = runner.tokenRequests.length;
    const result = await sign(model.dir, await subjectsOf(model.dir, 'pytorch_model.pth'), { 'fulcio-url': 'http://fulcio.example.com' });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^::error::BAD_INPUT: fulcio-url: "http:\/\/fulcio\.example\.com" must be an https:\/\/ URL$/m);
    assert.equal(runner.tokenRequests.length, tokensBefore, 'no token was even requested');
    assert.deepEqual(await filesIn(model.dir), ['pytorch_model.pth']);
  });

  it('refuses pull_request_target (or issue_comment, workflow_run …) runs, whose recorded source is not what the job may have built', async () => {
    const target = await startActionsRunner(mock, { event_name: 'pull_request_target' });
    try {
      const model = await newModel('pytorch_model.pth');
      const result = await target.run({ inputs: { subjects: await subjectsOf(model.dir, 'pytorch_model.pth'), 'output-dir': model.dir, ...sigstoreInputs(target) } });
      assert.equal(result.code, 1);
      assert.match(result.stdout, /^::error::UNSUPPORTED_EVENT: pull_request_target runs name refs\/heads\/main as their source/m);
      assert.deepEqual(await filesIn(model.dir), ['pytorch_model.pth']);
    } finally {
      await target.close();
    }
  });
});
