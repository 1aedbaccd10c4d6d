// slsa-ml query over models some of which have PipelineRun provenance (buildType
// tekton-pipeline/v1): a framework the train task reported selects the model as it would for a
// TaskRun's, and the answer names the PipelineRun.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { digestLocalPath } from '../../src/digest/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { pipelineRunFor, signPipelineRun, type PipelineObjects } from '../fixtures/cli-pipeline/pipeline.ts';
import { cli, signRun, storeSiblings, writeKeyPair, type KeyFiles } from '../support/cli.ts';

const storage = createStorage();
const TRAIN_IMAGE = '1efd201a56e626eecb1c5dba97a5f2b28ce6590b47a6887aaac41ca6f88ee7e5';
let root: string;
let under: string;
let key: KeyFiles;
let pipeline: PipelineObjects;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-query-pipeline-'));
  key = await writeKeyPair(root, 'cosign');
  under = `${pathToFileURL(join(root, 'models')).href}/`;
  const fromPipeline = await writeModel('vision/resnet/v1/model.pth');
  pipeline = pipelineRunFor({ modelUri: fromPipeline.uri, frameworks: ['pkg:pypi/torch@2.5.1', 'pkg:pypi/numpy@1.26.4'], name: 'resnet-train-7qk2d' });
  await storeSiblings(storage, fromPipeline.uri, await signPipelineRun(pipeline, fromPipeline.uri, await digestLocalPath(fromPipeline.path), { privatePem: key.privatePem }));
  const fromTaskRun = await writeModel('vision/resnet/v2/model.pth');
  await storeSiblings(storage, fromTaskRun.uri, await signRun({ modelUri: fromTaskRun.uri, frameworks: ['pkg:pypi/torch@2.4.0'], name: 'train-resnet-v2' }, await digestLocalPath(fromTaskRun.path), { privatePem: key.privatePem }));
});
after(() => rm(root, { recursive: true, force: true }));

async function writeModel(name: string): Promise<{ path: string; uri: string }> {
  const path = join(root, 'models', name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, randomBytes(2000));
  return { path, uri: pathToFileURL(path).href };
}

interface Run {
  namespace: string | null;
  name: string | null;
  uid: string | null;
}

interface Answer {
  verified: number;
  affected: Array<{ model: string; matched: string[]; taskRun: Run | null; pipelineRun: Run | null; workflow: unknown; finishedOn: string }>;
  unverifiable: unknown[];
}

async function query(...flags: string[]): Promise<{ code: number; answer: Answer }> {
  const run = await cli(['query', '--under', under, '--key', key.publicPath, '--json', ...flags]);
  assert.equal(run.stderr, '');
  return { code: run.code, answer: JSON.parse(run.stdout) as Answer };
}

describe('when a model was trained by a PipelineRun', () => {
  it('is found by a framework its train task reported, and named by its PipelineRun', async () => {
    const { code, answer } = await query('--dependency', 'pkg:pypi/torch@>=2.5.0 <2.6.0');
    assert.equal(code, 1);
    assert.equal(answer.verified, 2);
    assert.deepEqual(answer.unverifiable, []);
    assert.deepEqual(answer.affected.map((a) => [a.model, a.matched]), [[`${under}vision/resnet/v1/model.pth`, ['pkg:pypi/torch@2.5.1']]]);
    const pr = pipeline.pipelineRun.metadata;
    assert.deepEqual(answer.affected[0]?.pipelineRun, { namespace: pr.namespace, name: pr.name, uid: pr.uid });
    assert.equal(answer.affected[0]?.taskRun, null);
    assert.equal(answer.affected[0]?.workflow, null);
    assert.equal(answer.affected[0]?.finishedOn, '2026-01-10T08:00:00Z');
  });

  it('is found alongside TaskRun models, each named by its own kind of run', async () => {
    const { answer } = await query('--dependency', 'pkg:pypi/torch@<2.6.0');
    assert.deepEqual(answer.affected.map((a) => [a.model.slice(under.length), a.pipelineRun?.name ?? null, a.taskRun?.name ?? null]), [
      ['vision/resnet/v1/model.pth', 'resnet-train-7qk2d', null],
      ['vision/resnet/v2/model.pth', null, 'train-resnet-v2'],
    ]);
  });

  it('is found by the image its train task ran', async () => {
    const { answer } = await query('--image', `sha256:${TRAIN_IMAGE}`);
    assert.ok(answer.affected.some((a) => a.model === `${under}vision/resnet/v1/model.pth`), JSON.stringify(answer.affected));
  });

  it('the table marks the run as a PipelineRun', async () => {
    const run = await cli(['query', '--under', under, '--key', key.publicPath, '--dependency', 'pkg:pypi/numpy@<2']);
    assert.equal(run.code, 1, run.stderr);
    const [header, row] = run.stdout.split('\n');
    assert.match(header ?? '', /^MODEL +RUN +ID +MATCHED +FINISHED$/);
    assert.match(row ?? '', new RegExp(`^${under}vision/resnet/v1/model\\.pth +team-vision/resnet-train-7qk2d \\(PipelineRun\\) +${pipeline.pipelineRun.metadata.uid} +pkg:pypi/numpy@1\\.26\\.4 +2026-01-10T08:00:00Z$`));
  });
});
