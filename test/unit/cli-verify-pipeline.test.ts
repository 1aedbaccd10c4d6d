// slsa-ml verify on provenance written for a whole PipelineRun (buildType tekton-pipeline/v1):
// the policy flags read it unchanged — the source a clone task reported, the frameworks the train
// task reported, the PipelineRun's namespace — and the report names the PipelineRun, not a TaskRun.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { digestLocalPath } from '../../src/digest/index.ts';
import { BUILD_TYPE, PIPELINE_BUILD_TYPE } from '../../src/provenance/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { PIPELINE_BUILDER_ID, pipelineRunFor, signPipelineRun, type PipelineFacts, type PipelineObjects } from '../fixtures/cli-pipeline/pipeline.ts';
import { cli, failedChecks, signRun, storeSiblings, writeKeyPair, type KeyFiles } from '../support/cli.ts';

const storage = createStorage();
const COMMIT = 'ec0b4f0b5c90ed0fa911a2972ccc452641b31563';
let root: string;
let key: KeyFiles;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-verify-pipeline-'));
  key = await writeKeyPair(root, 'cosign');
});
after(() => rm(root, { recursive: true, force: true }));

async function modelFile(): Promise<{ path: string; uri: string }> {
  const dir = await mkdtemp(join(root, 'model-'));
  const path = join(dir, 'pytorch_model.pth');
  await writeFile(path, randomBytes(20_000));
  return { path, uri: pathToFileURL(path).href };
}

/** A model with provenance for the PipelineRun that trained it. */
async function pipelineModel(facts: Omit<PipelineFacts, 'modelUri'> = {}): Promise<{ path: string; objects: PipelineObjects }> {
  const model = await modelFile();
  const objects = pipelineRunFor({ ...facts, modelUri: model.uri });
  await storeSiblings(storage, model.uri, await signPipelineRun(objects, model.uri, await digestLocalPath(model.path), { privatePem: key.privatePem }));
  return { path: model.path, objects };
}

interface Verdict {
  buildType: string | null;
  taskRun: { namespace: string; name: string; uid: string } | null;
  pipelineRun: { namespace: string; name: string; uid: string } | null;
  workflow: unknown;
  source: { repository: string; commit?: string; pipelineTask?: string } | null;
  packages: string[];
}

async function verifyJson(model: string, ...flags: string[]): Promise<{ code: number; failed: Record<string, string>; verdict: Verdict }> {
  const run = await cli(['verify', model, '--key', key.publicPath, '--json', ...flags]);
  assert.equal(run.stderr, '');
  return { code: run.code, failed: failedChecks(run.stdout), verdict: JSON.parse(run.stdout) as Verdict };
}

describe('when the model has PipelineRun provenance', () => {
  it('--source-repo passes for the source the clone task reported, with its commit', async () => {
    const model = await pipelineModel();
    const run = await verifyJson(model.path, '--source-repo', 'github.com/example/cifar10-training', '--source-ref', COMMIT);
    assert.equal(run.code, 0, JSON.stringify(run.failed));
    assert.deepEqual(run.verdict.source, { uri: 'git+https://github.com/example/cifar10-training.git', repository: 'https://github.com/example/cifar10-training.git', commit: COMMIT, pipelineTask: 'clone' });
  });

  it('--source-repo fails for another repository (SOURCE_MISMATCH), and --source-ref for another commit', async () => {
    const model = await pipelineModel();
    const repo = await verifyJson(model.path, '--source-repo', 'github.com/example/other-training');
    assert.equal(repo.code, 1);
    assert.deepEqual(repo.failed, { sourceRepo: 'SOURCE_MISMATCH' });
    const ref = await verifyJson(model.path, '--source-repo', 'github.com/example/cifar10-training', '--source-ref', 'a'.repeat(40));
    assert.deepEqual(ref.failed, { sourceRef: 'SOURCE_REF_MISMATCH' });
  });

  it('--deny reads the frameworks the train task reported, and --namespace and --builder-id the PipelineRun\'s', async () => {
    const model = await pipelineModel({ frameworks: ['pkg:pypi/torch@2.5.1'], namespace: 'team-nlp' });
    const pass = await verifyJson(model.path, '--namespace', 'team-nlp', '--builder-id', PIPELINE_BUILDER_ID, '--deny', 'pkg:pypi/tensorflow');
    assert.equal(pass.code, 0, JSON.stringify(pass.failed));
    const fail = await verifyJson(model.path, '--namespace', 'team-vision', '--deny', 'pkg:pypi/torch@<2.6.0');
    assert.deepEqual(fail.failed, { namespace: 'NAMESPACE_MISMATCH', 'deny pkg:pypi/torch@<2.6.0': 'DENIED_DEPENDENCY' });
  });

  it('--json names the buildType and the PipelineRun (taskRun and workflow null)', async () => {
    const model = await pipelineModel();
    const { verdict } = await verifyJson(model.path);
    const pr = model.objects.pipelineRun.metadata;
    assert.equal(verdict.buildType, PIPELINE_BUILD_TYPE);
    assert.deepEqual(verdict.pipelineRun, { namespace: pr.namespace, name: pr.name, uid: pr.uid });
    assert.equal(verdict.taskRun, null);
    assert.equal(verdict.workflow, null);
    assert.deepEqual(verdict.packages, ['pkg:pypi/torch@2.8.0', 'pkg:pypi/numpy@2.3.4']);
  });

  it('the report shows the PipelineRun, the buildType and the source with its pipeline task', async () => {
    const model = await pipelineModel();
    const run = await cli(['verify', model.path, '--key', key.publicPath]);
    assert.equal(run.code, 0, run.stdout);
    const pr = model.objects.pipelineRun.metadata;
    assert.match(run.stdout, new RegExp(`\\npipelinerun team-vision/${pr.name} \\(uid ${pr.uid}\\), finished 2026-01-10T08:00:00Z\\n`));
    assert.match(run.stdout, new RegExp(`\\nsource      https://github\\.com/example/cifar10-training\\.git, commit ${COMMIT} \\(pipeline task clone\\)\\n`));
    assert.match(run.stdout, new RegExp(`\\nbuildtype   ${PIPELINE_BUILD_TYPE.replaceAll('.', '\\.')}\\n`));
    assert.doesNotMatch(run.stdout, /\ntaskrun /);
    assert.match(run.stdout, /\nVERIFIED\n$/);
  });
});

describe('when the model has TaskRun provenance', () => {
  it('the report still names the TaskRun, with its buildType, and --json has pipelineRun null', async () => {
    const model = await modelFile();
    await storeSiblings(storage, model.uri, await signRun({ modelUri: model.uri, name: 'train-x1' }, await digestLocalPath(model.path), { privatePem: key.privatePem }));
    const human = await cli(['verify', model.path, '--key', key.publicPath]);
    assert.match(human.stdout, /\ntaskrun +team-vision\/train-x1 \(uid [0-9a-f-]{36}\)/);
    assert.match(human.stdout, new RegExp(`\\nbuildtype   ${BUILD_TYPE.replaceAll('.', '\\.')}\\n`));
    const { verdict } = await verifyJson(model.path);
    assert.equal(verdict.pipelineRun, null);
    assert.equal(verdict.taskRun?.name, 'train-x1');
  });
});
