// The action's input parsing and the runner protocol, without a runner: what a caller who
// pastes the wrong thing into a workflow input sees, and that outputs cannot be forged.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { decodeClaims, githubRun } from '../../src/action/claims.ts';
import { parseReported } from '../../src/action/reported.ts';
import { input, setOutputs, stdoutLog } from '../../src/action/runner.ts';
import { parseSubjects } from '../../src/action/subjects.ts';
import { rootDigest } from '../../src/digest/index.ts';
import { parseOutputs } from '../support/github-actions-runner.ts';
import { GITHUB_CLAIMS, githubActionsToken } from '../support/signing-sigstore-mock.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('when the subjects input lists one file', () => {
  it('is a file model with that digest, whatever sha256sum mode or ./ prefix', () => {
    for (const line of [`${A}  model.pth`, `${A} *model.pth`, `${A.toUpperCase()}  ./model.pth`]) {
      assert.deepEqual(parseSubjects(b64(`${line}\n`)), { name: 'model.pth', measured: { kind: 'file', sha256: A, fileCount: 1 } });
    }
  });
});

describe('when the subjects input lists the files of a directory', () => {
  it('is a directory model whose digest is the model-signing root over the files in canonical order', () => {
    const text = `${B}  saved/variables/variables.index\r\n${A}  saved/saved_model.pb\n${C}  saved/variables/x\n\n`;
    const model = parseSubjects(b64(text));
    assert.equal(model.name, 'saved');
    assert.equal(model.measured.kind, 'directory');
    assert.deepEqual(model.measured.files?.map((f) => f.path), ['saved_model.pb', 'variables/variables.index', 'variables/x']);
    assert.equal(model.measured.sha256, rootDigest([{ sha256: A }, { sha256: B }, { sha256: C }]));
  });

  it('leaves out top-level .git* paths, as model_signing and verify do', () => {
    const model = parseSubjects(b64(`${A}  m/a.bin\n${B}  m/.git/HEAD\n${C}  m/.gitattributes\n`));
    assert.deepEqual(model.measured.files?.map((f) => f.path), ['a.bin']);
  });
});

describe('when the subjects input is wrong', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not base64', '%%%', /subjects: is not base64/],
    ['empty', '', /subjects: lists no files/],
    ['a bad line', b64('hello world\n'), /subjects: line 1: expected/],
    ['a short digest', b64(`${'a'.repeat(63)}  m.pth\n`), /line 1: expected/],
    ['an absolute path', b64(`${A}  /etc/passwd\n`), /line 1: path "\/etc\/passwd" must be relative/],
    ['a .. segment', b64(`${A}  m/../x\n`), /must be relative, without empty, "\." or "\.\." segments/],
    ['two models', b64(`${A}  a.pth\n${B}  b.pth\n`), /names 2 models \(a\.pth, b\.pth/],
    ['a file that is also a folder', b64(`${A}  m\n${B}  m/x\n`), /lists m both as a file and as a directory/],
    ['a file twice', b64(`${A}  m/x\n${B}  m/x\n`), /lists m\/x twice/],
    ['a file model twice', b64(`${A}  m.pth\n${B}  m.pth\n`), /lists m\.pth twice/],
    ['an escaped name', b64(`\\${A}  m\\nx\n`), /escaped file names are not supported/],
  ];
  for (const [what, value, message] of cases) {
    it(`refuses ${what}, naming the input`, () => {
      assert.throws(() => parseSubjects(value), (err: Error & { code?: string }) => err.code === 'BAD_INPUT' && message.test(err.message));
    });
  }
});

describe('when the caller reports frameworks, data set and runner', () => {
  it('keeps well-formed values', () => {
    const reported = parseReported({
      frameworks: '["pkg:pypi/torch@2.10.0"]',
      dataset: `{"uri":"gs://data/cifar.tgz","digest":"sha256:${A}"}`,
      trainingRunner: '{"os":"Linux"}',
    });
    assert.deepEqual(reported, { frameworks: ['pkg:pypi/torch@2.10.0'], dataset: { uri: 'gs://data/cifar.tgz', sha256: A }, runner: { os: 'Linux' } });
    assert.deepEqual(parseReported({ frameworks: '', dataset: '', trainingRunner: '' }), { frameworks: [] });
  });

  it('refuses malformed ones, naming the input and the reason', () => {
    const bad = (inputs: Partial<Parameters<typeof parseReported>[0]>, message: RegExp): void => {
      assert.throws(() => parseReported({ frameworks: '', dataset: '', trainingRunner: '', ...inputs }), message);
    };
    bad({ frameworks: 'torch' }, /^ActionError: frameworks: is not JSON/);
    bad({ frameworks: '{"torch": 1}' }, /frameworks: must be a JSON array/);
    bad({ dataset: '{"uri":"x","digest":"md5:00"}' }, /dataset: digest must be "sha256:<64 lowercase hex>"/);
    bad({ trainingRunner: '{"gpus": 2}' }, /training-runner: gpus must be a string/);
  });
});

describe('when the OIDC token and the environment describe the run', () => {
  it('takes the run from the token', () => {
    const run = githubRun(decodeClaims(githubActionsToken()), { GITHUB_SHA: GITHUB_CLAIMS.sha, GITHUB_REPOSITORY: 'acme/models' });
    assert.equal(run.jobWorkflowRef, GITHUB_CLAIMS.job_workflow_ref);
    assert.equal(run.serverUrl, 'https://github.com');
    assert.equal(run.runnerEnvironment, 'github-hosted');
  });

  it('refuses a token without a required claim, or an environment that contradicts it', () => {
    assert.throws(() => githubRun(decodeClaims(githubActionsToken({ job_workflow_ref: '' })), {}), /the OIDC token has no job_workflow_ref claim/);
    assert.throws(() => githubRun(decodeClaims(githubActionsToken()), { GITHUB_REF: 'refs/heads/evil' }), /GITHUB_REF=refs\/heads\/evil but the OIDC token's ref claim is refs\/heads\/main/);
    assert.throws(() => decodeClaims('not-a-jwt'), /not a JWT/);
    for (const event of ['pull_request_target', 'workflow_run', 'issue_comment', 'repository_dispatch']) {
      assert.throws(() => githubRun(decodeClaims(githubActionsToken({ event_name: event })), {}), (err: Error & { code?: string }) => err.code === 'UNSUPPORTED_EVENT');
    }
    for (const event of ['push', 'workflow_dispatch', 'release', 'schedule', 'pull_request', 'merge_group']) {
      assert.equal(githubRun(decodeClaims(githubActionsToken({ event_name: event })), {}).eventName, event);
    }
  });
});

describe('when the action talks to the runner', () => {
  it('reads inputs by the runner\'s naming rule', () => {
    assert.equal(input({ 'INPUT_GCS-URI': ' gs://b/m \n' }, 'gcs-uri'), 'gs://b/m');
    assert.equal(input({}, 'subjects'), '');
  });

  it('writes outputs so that a value with newlines cannot add an output of its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slsa-ml-outputs-'));
    try {
      const file = join(dir, 'out');
      await setOutputs({ GITHUB_OUTPUT: file }, { model: 'm.pth\nbuilder-id<<EOF\nevil\nEOF', 'builder-id': 'https://github.com/x' });
      assert.deepEqual(parseOutputs(await readFile(file, 'utf8')), { model: 'm.pth\nbuilder-id<<EOF\nevil\nEOF', 'builder-id': 'https://github.com/x' });
      await assert.rejects(setOutputs({}, { a: 'b' }), /GITHUB_OUTPUT is not set/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('escapes error text so a message cannot start another workflow command', () => {
    const lines: string[] = [];
    stdoutLog((l) => lines.push(l)).error('bad\n::add-mask::x 100%');
    assert.deepEqual(lines, ['::error::bad%0A::add-mask::x 100%25\n']);
  });
});
