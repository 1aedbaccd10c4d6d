// slsa-ml attest --pipelinerun on local (file://) storage: provenance for a finished PipelineRun's
// model (the tekton-pipeline/v1 statement, every child TaskRun inspected), written create-only and
// accepted by slsa-ml verify; a child TaskRun missing, or one that is not the PipelineRun's, writes
// nothing.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { stringify } from 'yaml';

import { digestLocalPath } from '../../src/digest/index.ts';
import { PIPELINE_BUILD_TYPE } from '../../src/provenance/index.ts';
import { pipelineRunFor, type KubeJson, type PipelineFacts, type PipelineObjects } from '../fixtures/cli-pipeline/pipeline.ts';
import { cli, failedChecks, hasStackTrace, writeKeyPair, type KeyFiles } from '../support/cli.ts';

let root: string;
let key: KeyFiles;
let prefix: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-attest-pipeline-'));
  key = await writeKeyPair(root, 'cosign');
  prefix = `${pathToFileURL(join(root, 'models')).href}/`;
});
after(() => rm(root, { recursive: true, force: true }));

let counter = 0;

async function fileModel(): Promise<{ path: string; dir: string; uri: string }> {
  const dir = join(root, 'models', `run-${counter++}`);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'pytorch_model.pth');
  await writeFile(path, randomBytes(10_000));
  return { path, dir, uri: pathToFileURL(path).href };
}

async function write(name: string, content: unknown, format: 'json' | 'yaml' = 'json'): Promise<string> {
  const path = join(root, `${name}-${counter++}.${format}`);
  await writeFile(path, format === 'json' ? JSON.stringify(content) : String(content));
  return path;
}

/** The PipelineRun in one file, its TaskRuns in another as `kubectl get taskruns -l … -o yaml` writes them. */
async function files(objects: PipelineObjects): Promise<string[]> {
  const taskRuns = await write('taskruns', stringify({ apiVersion: 'v1', kind: 'List', items: objects.taskRuns }), 'yaml');
  return ['--pipelinerun', await write('pipelinerun', objects.pipelineRun), '--taskruns', taskRuns];
}

const attest = (input: readonly string[], ...flags: string[]) => cli(['attest', ...input, '--allowed-prefix', prefix, '--key', key.privatePath, ...flags]);

interface Statement {
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: { name: string; namespace: string; runSpec: { pipelineRef?: unknown } };
      internalParameters: { tasks: Array<{ pipelineTask: string; taskRun: string }>; operatorConfig: { deepInspection?: boolean } };
      resolvedDependencies?: Array<{ name?: string; uri?: string; annotations?: Record<string, unknown> }>;
    };
    runDetails: { metadata: { invocationId: string } };
  };
}

async function verified(modelPath: string, ...flags: string[]): Promise<{ code: number; stdout: string; statement: Statement }> {
  const run = await cli(['verify', modelPath, '--key', key.publicPath, '--json', ...flags]);
  const verdict = JSON.parse(run.stdout) as { statement?: Statement };
  return { code: run.code, stdout: run.stdout, statement: verdict.statement as Statement };
}

describe('when a finished PipelineRun produced a model', () => {
  it('names a child that is not a TaskRun (a Custom Task\'s run) in the statement without inspecting it, as the operator does', async () => {
    const model = await fileModel();
    const objects = pipelineRunFor({ modelUri: model.uri });
    objects.pipelineRun.status.childReferences?.push({ apiVersion: 'tekton.dev/v1beta1', kind: 'CustomRun', name: 'approve', pipelineTaskName: 'approve' });
    const run = await attest(['--pipelinerun', await write('pr', objects.pipelineRun), '--taskruns', await write('trs', { kind: 'List', items: objects.taskRuns })]);
    assert.equal(run.code, 0, run.stderr);
    const { statement } = await verified(model.path);
    const internal = statement.predicate.buildDefinition.internalParameters as unknown as { uninspectedRuns?: unknown };
    assert.deepEqual(internal.uninspectedRuns, [{ pipelineTask: 'approve', kind: 'CustomRun', name: 'approve' }]);
  });

  it('writes pipeline provenance from the PipelineRun and its TaskRuns (a List), and verify accepts it', async () => {
    const model = await fileModel();
    const objects = pipelineRunFor({ modelUri: model.uri, reportedSha256: (await digestLocalPath(model.path)).sha256 });
    const run = await attest(await files(objects), '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((JSON.parse(run.stdout) as { attested: Array<{ model: string; signature: string }> }).attested.map((a) => [a.model, a.signature]), [[model.uri, `${model.uri}.sig`]]);
    assert.deepEqual((await readdir(model.dir)).sort(), ['pytorch_model.pth', 'pytorch_model.pth.intoto.jsonl', 'pytorch_model.pth.sig', 'pytorch_model.pth.sigstore.json']);

    const { code, stdout, statement } = await verified(model.path, '--builder-id', 'https://slsa-ml.dev/cli/attest', '--namespace', 'team-vision',
      '--source-repo', 'github.com/example/cifar10-training', '--deny', 'pkg:pypi/torch@<2.6.0');
    assert.equal(code, 0, stdout);
    const { buildDefinition, runDetails } = statement.predicate;
    assert.equal(buildDefinition.buildType, PIPELINE_BUILD_TYPE);
    assert.equal(buildDefinition.externalParameters.name, objects.pipelineRun.metadata.name);
    assert.deepEqual(buildDefinition.externalParameters.runSpec.pipelineRef, { name: 'clone-and-train' });
    assert.equal(runDetails.metadata.invocationId, objects.pipelineRun.metadata.uid);
    assert.deepEqual(buildDefinition.internalParameters.tasks.map((t) => [t.pipelineTask, t.taskRun]), objects.taskRuns.map((tr) => [tr.metadata.labels?.['tekton.dev/pipelineTask'], tr.metadata.name]));
    assert.equal(buildDefinition.internalParameters.operatorConfig.deepInspection, true);
    const source = buildDefinition.resolvedDependencies?.find((d) => d.name === 'source');
    assert.equal(source?.annotations?.['slsa-ml.dev/pipelineTask'], 'clone', 'the source came from the clone task');
    const torch = buildDefinition.resolvedDependencies?.find((d) => d.uri === 'pkg:pypi/torch@2.8.0');
    assert.equal(torch?.annotations?.['slsa-ml.dev/pipelineTask'], 'train', 'the framework came from the train task');
  });

  it('reads one multi-document YAML: the PipelineRun, then its TaskRuns as a List (kubectl get … -o yaml twice)', async () => {
    const model = await fileModel();
    const objects = pipelineRunFor({ modelUri: model.uri });
    const yaml = `${stringify(objects.pipelineRun)}---\n${stringify({ apiVersion: 'v1', kind: 'List', items: objects.taskRuns })}`;
    const run = await attest(['--pipelinerun', await write('all', yaml, 'yaml')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^model     ${model.uri}\\n  sha256    [0-9a-f]{64}\\n  bundle    ${model.uri}\\.sigstore\\.json\\n`));
    assert.equal((await verified(model.path)).code, 0);
  });

  it('accepts the TaskRuns in several files, one repeated: the same TaskRun twice is one', async () => {
    const model = await fileModel();
    const objects = pipelineRunFor({ modelUri: model.uri });
    const [clone, train] = objects.taskRuns;
    const run = await attest(['--pipelinerun', await write('pr', objects.pipelineRun), '--taskruns', await write('clone', clone), '--taskruns', await write('both', { kind: 'List', items: [train, clone] })]);
    assert.equal(run.code, 0, run.stderr);
  });

  it('with --no-deep-inspection, reads only the PipelineRun\'s own results: its model, and no source from the clone task', async () => {
    const model = await fileModel();
    const run = await attest(await files(pipelineRunFor({ modelUri: model.uri, reportedBy: 'pipeline' })), '--no-deep-inspection');
    assert.equal(run.code, 0, run.stderr);
    const { statement } = await verified(model.path);
    assert.equal(statement.predicate.buildDefinition.internalParameters.operatorConfig.deepInspection, false);
    assert.equal(statement.predicate.buildDefinition.resolvedDependencies?.some((d) => d.name === 'source'), false);
    const sourceRepo = await verified(model.path, '--source-repo', 'github.com/example/cifar10-training');
    assert.deepEqual(failedChecks(sourceRepo.stdout), { sourceRepo: 'SOURCE_MISSING' });
  });

  it('with --no-deep-inspection, a model only a task reports is not found (exit 2), and nothing is written', async () => {
    const model = await fileModel();
    const run = await attest(await files(pipelineRunFor({ modelUri: model.uri })), '--no-deep-inspection');
    assert.equal(run.code, 2, run.stdout);
    assert.match(run.stderr, /the PipelineRun reports no model output marked isBuildArtifact/);
    assert.deepEqual(await readdir(model.dir), ['pytorch_model.pth']);
  });
});

describe('when attest --pipelinerun must not write provenance', () => {
  async function nothingWritten(input: string[], code: number, message: RegExp, dir: string): Promise<void> {
    const run = await attest(input);
    assert.equal(run.code, code, run.stdout + run.stderr);
    assert.match(run.stderr, message);
    assert.equal(hasStackTrace(run.stderr), false, run.stderr);
    assert.deepEqual(await readdir(dir), ['pytorch_model.pth'], 'nothing was written');
  }

  async function withTaskRuns(facts: PipelineFacts, change: (objects: PipelineObjects) => KubeJson[]): Promise<{ objects: PipelineObjects; input: string[] }> {
    const objects = pipelineRunFor(facts);
    const taskRuns = change(objects);
    return { objects, input: ['--pipelinerun', await write('pr', objects.pipelineRun), '--taskruns', await write('trs', { apiVersion: 'v1', kind: 'List', items: taskRuns })] };
  }

  it('a child TaskRun not given is an input error naming it and its pipeline task (exit 2)', async () => {
    const model = await fileModel();
    const { objects, input } = await withTaskRuns({ modelUri: model.uri }, (o) => o.taskRuns.slice(1));
    const pr = objects.pipelineRun.metadata;
    await nothingWritten(input, 2, new RegExp(`^slsa-ml attest: PipelineRun team-vision/${pr.name} \\(uid ${pr.uid}\\) ran TaskRun ${pr.name}-clone \\(pipeline task clone\\), not given: add it with --taskruns`), model.dir);
  });

  it('no TaskRuns at all names every child', async () => {
    const model = await fileModel();
    const objects = pipelineRunFor({ modelUri: model.uri });
    const name = objects.pipelineRun.metadata.name;
    await nothingWritten(['--pipelinerun', await write('pr', objects.pipelineRun)], 2, new RegExp(`ran TaskRun ${name}-clone \\(pipeline task clone\\), ${name}-train \\(pipeline task train\\), not given: add them`), model.dir);
  });

  it('a TaskRun controlled by another PipelineRun is refused by name (exit 1)', async () => {
    const model = await fileModel();
    const other = pipelineRunFor({ modelUri: model.uri });
    const { input } = await withTaskRuns({ modelUri: model.uri }, (o) => [...o.taskRuns, other.taskRuns[1] as KubeJson]);
    const stranger = other.taskRuns[1]?.metadata;
    await nothingWritten(input, 1, new RegExp(`^slsa-ml attest: refused: --taskruns \\S+: TaskRun ${stranger?.name ?? ''} is controlled by PipelineRun ${other.pipelineRun.metadata.name} \\(uid ${other.pipelineRun.metadata.uid}\\), not by PipelineRun`), model.dir);
  });

  it('a child whose controller reference names another uid is refused, even under the right name (exit 1)', async () => {
    const model = await fileModel();
    const { input } = await withTaskRuns({ modelUri: model.uri }, (o) => {
      const [clone, train] = o.taskRuns as [KubeJson, KubeJson];
      train.metadata.ownerReferences = [{ kind: 'PipelineRun', name: o.pipelineRun.metadata.name, uid: randomUUID(), controller: true }];
      return [clone, train];
    });
    await nothingWritten(input, 1, /refused: .*TaskRun \S+-train is controlled by PipelineRun \S+ \(uid [0-9a-f-]{36}\), not by PipelineRun/, model.dir);
  });

  it('a TaskRun without a controller is refused (exit 1)', async () => {
    const model = await fileModel();
    const { input } = await withTaskRuns({ modelUri: model.uri }, (o) => {
      delete o.taskRuns[0]?.metadata.ownerReferences;
      return o.taskRuns;
    });
    await nothingWritten(input, 1, /refused: .*TaskRun \S+-clone has no controller, not by PipelineRun/, model.dir);
  });

  it('a digest a task reported that differs from the model is refused, naming the task (exit 1)', async () => {
    const model = await fileModel();
    const { input } = await withTaskRuns({ modelUri: model.uri, reportedSha256: 'f'.repeat(64) }, (o) => o.taskRuns);
    await nothingWritten(input, 1, /refused: result model_ARTIFACT_OUTPUTS of pipeline task train \(TaskRun \S+-train\): reported sha256:f{64} but .* measures sha256:/, model.dir);
  });

  it('a PipelineRun that did not succeed is an input error (exit 2)', async () => {
    const model = await fileModel();
    const objects = pipelineRunFor({ modelUri: model.uri });
    objects.pipelineRun.status.conditions = [{ type: 'Succeeded', status: 'False', reason: 'Failed' }];
    const input = ['--pipelinerun', await write('pr', objects.pipelineRun), '--taskruns', await write('trs', { kind: 'List', items: objects.taskRuns })];
    await nothingWritten(input, 2, /the PipelineRun is Succeeded=False \(Failed\); only a run that succeeded is attested/, model.dir);
  });

  it('a child TaskRun still running is an input error (exit 2)', async () => {
    const model = await fileModel();
    const { input } = await withTaskRuns({ modelUri: model.uri }, (o) => {
      const train = o.taskRuns[1] as KubeJson;
      train.status.conditions = [{ type: 'Succeeded', status: 'Unknown', reason: 'Running' }];
      return o.taskRuns;
    });
    await nothingWritten(input, 2, /TaskRun \S+-train: the TaskRun is Succeeded=Unknown \(Running\), but its PipelineRun succeeded/, model.dir);
  });

  it('a file holding something else than the PipelineRun and its TaskRuns is an input error (exit 2)', async () => {
    const model = await fileModel();
    const objects = pipelineRunFor({ modelUri: model.uri });
    const withPod = ['--pipelinerun', await write('pr', { kind: 'List', items: [objects.pipelineRun, ...objects.taskRuns, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }] })];
    await nothingWritten(withPod, 2, /holds a "Pod"; give only the PipelineRun and its TaskRuns/, model.dir);
    const twoRuns = ['--pipelinerun', await write('pr', { kind: 'List', items: [objects.pipelineRun, pipelineRunFor({ modelUri: model.uri }).pipelineRun] })];
    await nothingWritten(twoRuns, 2, /holds 2 PipelineRuns; give exactly one/, model.dir);
  });
});
