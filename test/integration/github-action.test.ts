// The slsa-ml action as GitHub runs it: `node src/action/main.ts` with the runner's variables,
// the job's OIDC token from a local endpoint, Fulcio and Rekor from @sigstore/mock. Its output
// is then judged by `slsa-ml verify` (keyless, the reusable workflow as the identity) and cosign.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { X509Certificate } from '@sigstore/core';

import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli, failedChecks } from '../support/cli.ts';
import { sigstoreInputs, startActionsRunner, type ActionRun, type ActionsRunner } from '../support/github-actions-runner.ts';
import { GITHUB_ACTIONS_ISSUER, GITHUB_CLAIMS, GITHUB_SAN_CLAIM, startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';

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

  it('writes <model>.sigstore.json and <model>.intoto.jsonl and names them in its outputs', () => {
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(result.outputs.model, 'pytorch_model.pth');
    assert.equal(result.outputs['bundle-path'], `${model.path}.sigstore.json`);
    assert.equal(result.outputs['envelope-path'], `${model.path}.intoto.jsonl`);
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
