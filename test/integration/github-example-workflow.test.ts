// The example workflow (.github/workflows/train-cifar10.yml) with its reusable workflow, run on
// this machine step by step: the train job's own shell steps train a real model with
// tasks/training (tiny CIFAR10-layout data set, one epoch) and digest it; the provenance job's
// action signs it keyless (simulated runner, @sigstore/mock); the verify job's own step runs
// `slsa-ml verify` on the "downloaded" files. Steps that only fetch things GitHub provides
// (checkout, setup-python/node, npm ci, pip install, artifact upload/download, gh) are replaced
// by what they would leave behind; anything else in the YAML must run as written.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { parse } from 'yaml';

import { trainingPython, writeTinyCifar } from '../../hack/demo/training.ts';
import { startActionsRunner, sigstoreInputs, type ActionsRunner } from '../support/github-actions-runner.ts';
import { GITHUB_CLAIMS, GITHUB_SAN_CLAIM, startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';
import { evaluateAll, runStep, type Contexts, type Workflow, type WorkflowJob, type WorkflowStep } from '../support/workflow-steps.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const LOCAL_ACTION = './.slsa-ml';
const REUSABLE = './.github/workflows/provenance.yml';

let root: string;
let python: string;
let dataset: { uri: string; sha256: string };
let mock: SigstoreMock;
let runner: ActionsRunner;
let example: Workflow;
let reusable: Workflow;

before(async () => {
  const found = await trainingPython();
  if (!found) throw new Error('the training venv is not provisioned: run `bash hack/install-tools.sh training`');
  python = found;
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-example-'));
  const archive = join(root, 'cifar-10-python.tar.gz');
  dataset = { uri: `file://${archive}`, sha256: await writeTinyCifar(python, archive) };
  mock = await startSigstoreMock({ subjectClaim: GITHUB_SAN_CLAIM });
  // The example calls the workflow from its own repository (`uses: ./…`): GitHub then names that
  // repository's copy, at the caller's ref, as the job's workflow.
  runner = await startActionsRunner(mock, { job_workflow_ref: `${GITHUB_CLAIMS.repository}/.github/workflows/provenance.yml@${GITHUB_CLAIMS.ref}` });
  example = await workflow('train-cifar10.yml');
  reusable = await workflow('provenance.yml');
});
after(async () => {
  await runner.close();
  stopSigstoreMock();
  await rm(root, { recursive: true, force: true });
});

async function workflow(name: string): Promise<Workflow> {
  return parse(await readFile(join(repo, '.github', 'workflows', name), 'utf8')) as Workflow;
}

function job(wf: Workflow, name: string): WorkflowJob {
  const found = wf.jobs[name];
  if (!found) throw new Error(`no job ${name}`);
  return found;
}

/** What the runner sets for every job, for a push to acme/models main. */
function jobEnv(temp: string): Record<string, string> {
  return {
    PATH: `${dirname(python)}:${process.env.PATH ?? ''}`,
    HOME: temp,
    PYTHONDONTWRITEBYTECODE: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: GITHUB_CLAIMS.repository,
    GITHUB_REF: GITHUB_CLAIMS.ref,
    GITHUB_SHA: GITHUB_CLAIMS.sha,
    RUNNER_TEMP: temp,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'GitHub Actions 7',
  };
}

/** Steps whose only effect is something this machine already has (or the test does itself). */
async function provided(step: WorkflowStep, workspace: string): Promise<boolean> {
  const uses = step.uses?.replace(/@.*$/, '');
  if (uses === 'actions/checkout' && step.with?.path === LOCAL_ACTION.slice(2)) {
    // slsa-ml at job.workflow_sha, which in this test is the repository's HEAD.
    await run('git', ['clone', '--quiet', '--shared', '--no-checkout', repo, join(workspace, LOCAL_ACTION)]);
    return true;
  }
  if (uses) {
    const known = ['actions/checkout', 'actions/setup-python', 'actions/setup-node', 'actions/upload-artifact', 'actions/download-artifact', 'google-github-actions/auth'];
    if (!known.includes(uses) && step.uses !== LOCAL_ACTION) throw new Error(`the test does not know what ${step.uses} provides`);
    return step.uses !== LOCAL_ACTION;
  }
  return /^(python -m pip install|npm ci)\b/.test(step.run ?? '') || (step.run ?? '').startsWith('gh ');
}

async function runJob(wf: Workflow, name: string, contexts: Contexts, workspace: string, temp: string): Promise<Record<string, string>> {
  const steps: Record<string, Contexts> = {};
  for (const step of job(wf, name).steps ?? []) {
    const ctx = { ...contexts, steps };
    if (await provided(step, workspace)) continue;
    let outputs: Record<string, string>;
    if (step.uses === LOCAL_ACTION) {
      const inputs = evaluateAll(step.with, ctx);
      // The workflow fixes public-good Sigstore; the test swaps in its stand-ins at this one step.
      assert.deepEqual([inputs['fulcio-url'], inputs['rekor-url']], ['https://fulcio.sigstore.dev', 'https://rekor.sigstore.dev']);
      const signed = await runner.run({ inputs: { ...inputs, ...sigstoreInputs(runner) } });
      assert.equal(signed.code, 0, signed.stdout + signed.stderr);
      outputs = { ...signed.outputs };
    } else {
      const ran = await runStep(step, ctx, workspace, jobEnv(temp));
      assert.equal(ran.code, 0, `${name} › ${step.name ?? step.id ?? '?'}:\n${ran.output}`);
      outputs = ran.outputs;
    }
    if (step.id) steps[step.id] = { outputs };
  }
  return evaluateAll(job(wf, name).outputs, { ...contexts, steps });
}

function callInputs(caller: WorkflowJob, needs: Contexts): Record<string, string> {
  assert.equal(caller.uses, REUSABLE);
  const declared = reusable.on.workflow_call?.inputs ?? {};
  const defaults = Object.fromEntries(Object.entries(declared).flatMap(([k, v]) => (v.default === undefined ? [] : [[k, `${v.default}`]])));
  return { ...defaults, ...evaluateAll(caller.with, { needs }) };
}

async function headCommit(): Promise<string> {
  return (await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();
}

describe('when the reusable workflow cannot know its own commit (GitHub Enterprise Server)', () => {
  it('stops before checking anything out, instead of running the caller\'s code', async () => {
    const steps = job(reusable, 'provenance').steps ?? [];
    const checkout = steps.findIndex((s) => s.uses?.startsWith('actions/checkout@') && s.with?.path === LOCAL_ACTION.slice(2));
    const guard = steps.slice(0, checkout).find((s) => s.run?.includes('WORKFLOW_SHA'));
    assert.ok(guard, 'a step before the checkout checks job.workflow_sha');
    const temp = await mkdtemp(join(root, 'ghes-'));
    const missing = await runStep(guard, { job: { workflow_repository: '', workflow_sha: '' } }, temp, jobEnv(temp));
    assert.equal(missing.code, 1);
    assert.match(missing.output, /::error::job\.workflow_repository \/ job\.workflow_sha are not available/);
    const present = await runStep(guard, { job: { workflow_repository: 'slsa-ml/slsa-ml', workflow_sha: await headCommit() } }, temp, jobEnv(temp));
    assert.equal(present.code, 0, present.output);
  });
});

for (const format of ['pytorch_model.pth', 'tensorflow_saved_model']) {
  describe(`when the example workflow trains ${format}`, () => {
    it('trains, digests, signs and verifies with the steps exactly as written', async () => {
      const temp = await mkdtemp(join(root, 'runner-'));
      const dispatch = { format, epochs: '1', 'dataset-uri': dataset.uri, 'dataset-sha256': dataset.sha256 };
      const runnerCtx = { temp, environment: 'github-hosted' };

      const train = await runJob(example, 'train', { inputs: dispatch, runner: runnerCtx }, repo, temp);
      assert.ok((JSON.parse(train.frameworks ?? '[]') as string[]).some((p) => p.startsWith('pkg:pypi/torch@') || p.startsWith('pkg:pypi/tensorflow@')), train.frameworks);

      const provenanceRunner = await mkdtemp(join(root, 'provenance-'));
      const inputs = callInputs(job(example, 'provenance'), { train: { outputs: train } });
      const self = { workflow_repository: GITHUB_CLAIMS.repository, workflow_sha: await headCommit() };
      const provenance = await runJob(reusable, 'provenance', { inputs, job: self, runner: { temp: provenanceRunner, environment: 'github-hosted' } }, provenanceRunner, provenanceRunner);
      assert.equal(provenance.model, format);
      assert.equal(provenance['builder-id'], `https://github.com/${GITHUB_CLAIMS.repository}/.github/workflows/provenance.yml@${GITHUB_CLAIMS.ref}`);
      assert.equal(provenance['artifact-name'], `${format}-provenance`);

      // The verify job: its workspace is a checkout (slsa-ml), the two artifacts downloaded into
      // `downloaded/`, and the trusted root its gh step writes.
      const workspace = await mkdtemp(join(root, 'verify-'));
      for (const entry of ['operator', 'src', 'node_modules', 'package.json']) await symlink(join(repo, entry), join(workspace, entry));
      await cp(join(temp, 'model'), join(workspace, 'downloaded'), { recursive: true });
      for (const file of ['sigstore.json', 'intoto.jsonl']) await cp(join(provenanceRunner, 'slsa-ml-provenance', `${format}.${file}`), join(workspace, 'downloaded', `${format}.${file}`));
      await writeFile(join(workspace, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
      const github = { token: 'unused', server_url: 'https://github.com', repository: GITHUB_CLAIMS.repository, ref: GITHUB_CLAIMS.ref };
      const verifyCtx = { needs: { provenance: { outputs: provenance } }, runner: runnerCtx, github };
      await runJob(example, 'verify', verifyCtx, workspace, temp);

      // The same verify step must fail once the downloaded model differs from what was signed.
      const extra = format.endsWith('.pth') ? join(workspace, 'downloaded', format) : join(workspace, 'downloaded', format, 'extra.txt');
      await mkdir(dirname(extra), { recursive: true });
      await writeFile(extra, 'tampered');
      const step = job(example, 'verify').steps?.find((s) => s.run?.includes('bin.ts verify'));
      assert.ok(step);
      const tampered = await runStep(step, { ...verifyCtx, steps: {} }, workspace, jobEnv(temp));
      assert.equal(tampered.code, 1, tampered.output);
      assert.match(tampered.output, /NOT VERIFIED/);
    });
  });
}
