// The Tekton resources in tasks/ as an ML engineer applies them: every document must be accepted
// by the real API server with the official Tekton CRDs (no field pruned away), the references
// the Tekton webhook would only catch at run time must resolve, each Task that runs the training
// program must declare exactly the results it writes, and the train-pipeline must have the shape
// pipeline-level provenance needs (source hints from fetch-source, the model re-exported, no
// verify task inside it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { ApiException, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { newNamespace, testEnv } from '../harness/index.ts';

const repo = join(import.meta.dirname, '..', '..');
const tasksDir = join(repo, 'tasks');

interface ParamSpec { name: string; default?: unknown }
interface ResultSpec { name: string; type?: string; properties?: Record<string, { type: string }> }
interface TaskSpec { params?: ParamSpec[]; results?: ResultSpec[]; steps: Array<{ name: string; image?: string }>; workspaces?: Array<{ name: string; optional?: boolean }> }
interface PipelineTask { name: string; taskRef: { name: string }; params?: Array<{ name: string; value: unknown }>; workspaces?: Array<{ name: string; workspace: string }> }
interface PipelineSpec { params?: ParamSpec[]; tasks: PipelineTask[]; workspaces?: Array<{ name: string }>; results?: Array<{ name: string; type?: string; value: unknown }> }
interface PipelineRunSpec { pipelineRef: { name: string }; params?: Array<{ name: string }>; workspaces?: Array<{ name: string }>; taskRunSpecs?: Array<{ pipelineTaskName: string; stepSpecs?: Array<{ name: string }> }> }
type Doc = KubernetesObject & { spec: unknown };

function yamlFiles(): string[] {
  const list = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));
  return [...list(tasksDir), ...list(join(tasksDir, 'examples'))];
}

function documents(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d, i) => {
    assert.deepEqual(d.errors.map(String), [], `${file} document ${i}`);
    return d.toJS() as Doc;
  });
}

const name = (doc: Doc): string => doc.metadata?.name ?? doc.metadata?.generateName ?? '?';
const all = (): Doc[] => yamlFiles().flatMap(documents);
const byKind = <T>(kind: string): Map<string, T> =>
  new Map(all().filter((d) => d.kind === kind).map((d) => [d.metadata?.name ?? '', d.spec as T]));

/** Paths of `sent` that the server did not keep (pruned as unknown, or changed). */
function notKept(sent: unknown, stored: unknown, path = ''): string[] {
  if (Array.isArray(sent)) {
    if (!Array.isArray(stored) || stored.length !== sent.length) return [path];
    return sent.flatMap((v, i) => notKept(v, stored[i], `${path}[${i}]`));
  }
  if (sent !== null && typeof sent === 'object') {
    if (stored === null || typeof stored !== 'object') return [path];
    return Object.entries(sent).flatMap(([k, v]) => notKept(v, (stored as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return sent === stored ? [] : [path];
}

/** Placeholders ($(params.x), $(tasks.t.results.r...)) used anywhere in a value. */
function references(value: unknown, pattern: RegExp): string[][] {
  const text = JSON.stringify(value);
  return [...text.matchAll(pattern)].map((m) => m.slice(1));
}

describe('the Tekton resources in tasks/', () => {
  let namespace = '';
  before(async () => {
    namespace = await newNamespace(testEnv(), 'tasks-yaml');
  });

  it('are tekton.dev/v1 Tasks, a Pipeline, example PipelineRuns for CPU, GPU and TPU and example TaskRuns (train, verify)', () => {
    const kinds = all().map((d) => `${d.apiVersion} ${d.kind}`).sort();
    const v1 = (kind: string, n: number): string[] => Array.from({ length: n }, () => `tekton.dev/v1 ${kind}`);
    assert.deepEqual(kinds, [...v1('Pipeline', 1), ...v1('PipelineRun', 3), ...v1('Task', 6), ...v1('TaskRun', 2)]);
    assert.deepEqual([...byKind('Task').keys()].sort(), ['evaluate-model', 'fetch-source', 'train-cifar10', 'train-model', 'upload-model', 'verify-model']);
    assert.deepEqual([...byKind('Pipeline').keys()], ['train-pipeline']);
  });

  for (const file of yamlFiles()) {
    it(`${relative(repo, file)}: the API server accepts every document and keeps every field (server-side dry run)`, async () => {
      const objects = KubernetesObjectApi.makeApiClient(testEnv().kubeConfig('admin'));
      for (const doc of documents(file)) {
        const sent = { ...doc, metadata: { ...doc.metadata, namespace } };
        // A dry-run create, as `kubectl create --dry-run=server` (and client-side apply) sends it.
        // Not server-side apply: the Tekton CRDs declare some fields (Task.spec.volumes,
        // podTemplate.securityContext) as untyped preserved objects, which the typed patch of
        // server-side apply refuses ("field not declared in schema") although Tekton accepts them.
        const stored = await objects.create(sent, undefined, 'All', 'slsa-ml-test')
          .catch((err: unknown) => assert.fail(`${doc.kind}/${name(doc)}: ${err instanceof ApiException ? String(err.body) : String(err)}`));
        assert.deepEqual(notKept(sent.spec, (stored as Doc).spec, 'spec'), [], `${doc.kind}/${name(doc)} lost fields`);
      }
    });
  }

  it('the Pipeline passes only declared params, all required ones, and results its tasks declare', () => {
    const tasks = byKind<TaskSpec>('Task');
    for (const pipeline of byKind<PipelineSpec>('Pipeline').values()) {
      for (const pt of pipeline.tasks) checkPipelineTask(pt, tasks);
      checkReferences(pipeline, tasks);
    }
  });

  it('each example PipelineRun gives every required Pipeline param and names real tasks and steps', () => {
    const pipelines = byKind<PipelineSpec>('Pipeline');
    const tasks = byKind<TaskSpec>('Task');
    for (const run of all().filter((d) => d.kind === 'PipelineRun').map((d) => d.spec as PipelineRunSpec)) {
      const pipeline = pipelines.get(run.pipelineRef.name);
      assert.ok(pipeline, `no Pipeline ${run.pipelineRef.name}`);
      const given = new Set((run.params ?? []).map((p) => p.name));
      assert.deepEqual(undeclared(given, pipeline.params), [], 'PipelineRun passes undeclared params');
      assert.deepEqual(missingRequired(given, pipeline.params), [], 'PipelineRun misses required params');
      assert.deepEqual((pipeline.workspaces ?? []).map((w) => w.name), (run.workspaces ?? []).map((w) => w.name));
      for (const spec of run.taskRunSpecs ?? []) {
        const pt = pipeline.tasks.find((t) => t.name === spec.pipelineTaskName);
        assert.ok(pt, `taskRunSpecs names no pipeline task ${spec.pipelineTaskName}`);
        const steps = tasks.get(pt.taskRef.name)?.steps.map((s) => s.name) ?? [];
        for (const step of spec.stepSpecs ?? []) assert.ok(steps.includes(step.name), `stepSpecs names no step ${step.name}`);
      }
    }
  });

  it('train-pipeline: fetch-source reports the source hints, upload the model, re-exported as the Pipeline\'s result; no task verifies inside it', () => {
    const tasks = byKind<TaskSpec>('Task');
    const pipeline = byKind<PipelineSpec>('Pipeline').get('train-pipeline');
    assert.ok(pipeline);
    const taskOf = new Map(pipeline.tasks.map((t) => [t.name, t.taskRef.name]));
    assert.deepEqual([...taskOf], [['fetch-source', 'fetch-source'], ['train', 'train-cifar10'], ['evaluate', 'evaluate-model'], ['upload', 'upload-model']]);
    const results = (task: string): string[] => (tasks.get(task)?.results ?? []).map((r) => r.name);
    assert.deepEqual(results('fetch-source'), ['CHAINS-GIT_URL', 'CHAINS-GIT_COMMIT']);
    assert.ok(results('upload-model').includes('model_ARTIFACT_OUTPUTS'));
    // Only the upload task reports a model: one provenance per model, for the published one.
    for (const [pt, task] of taskOf) if (pt !== 'upload') assert.ok(!results(task).some((r) => /ARTIFACT_(OUTPUTS|URI)$/.test(r)), `${task} reports a model output`);
    // Provenance of a PipelineRun's model is written once the PipelineRun has completed: a
    // verify-model task inside it would wait for it until its timeout.
    assert.ok(![...taskOf.values()].includes('verify-model'));
    const model = pipeline.results?.find((r) => r.name === 'model_ARTIFACT_OUTPUTS');
    assert.equal(model?.type, 'object');
    assert.equal(model.value, '$(tasks.upload.results.model_ARTIFACT_OUTPUTS[*])');
    // Every task shares the one workspace.
    for (const pt of pipeline.tasks) assert.deepEqual(pt.workspaces?.map((w) => w.workspace), ['shared'], pt.name);
  });

  it('each example PipelineRun puts only the train task on an accelerator pool', () => {
    for (const run of all().filter((d) => d.kind === 'PipelineRun')) {
      const spec = run.spec as PipelineRunSpec & { taskRunTemplate?: { podTemplate?: { nodeSelector?: unknown } } };
      assert.equal(spec.taskRunTemplate?.podTemplate?.nodeSelector, undefined, `${name(run)}: a node selector for every task`);
      for (const s of spec.taskRunSpecs ?? []) assert.equal(s.pipelineTaskName, 'train', name(run));
    }
  });

  it('the example TaskRun gives every required param of the Task it names, and only declared ones', () => {
    const tasks = byKind<TaskSpec>('Task');
    for (const run of all().filter((d) => d.kind === 'TaskRun').map((d) => d.spec as { taskRef: { name: string }; params?: Array<{ name: string }> })) {
      const task = tasks.get(run.taskRef.name);
      assert.ok(task, `no Task ${run.taskRef.name}`);
      const given = new Set((run.params ?? []).map((p) => p.name));
      assert.deepEqual(undeclared(given, task.params), []);
      assert.deepEqual(missingRequired(given, task.params), []);
    }
  });
});

function undeclared(given: Set<string>, params: ParamSpec[] | undefined): string[] {
  const declared = new Set((params ?? []).map((p) => p.name));
  return [...given].filter((p) => !declared.has(p));
}

function missingRequired(given: Set<string>, params: ParamSpec[] | undefined): string[] {
  return (params ?? []).filter((p) => p.default === undefined && !given.has(p.name)).map((p) => p.name);
}

function checkReferences(pipeline: PipelineSpec, tasks: Map<string, TaskSpec>): void {
  const pipelineParams = new Set((pipeline.params ?? []).map((p) => p.name));
  for (const [param] of references(pipeline, /\$\(params\.([\w-]+)\)/g)) assert.ok(pipelineParams.has(param ?? ''), `$(params.${param})`);
  for (const [task, result] of references(pipeline, /\$\(tasks\.([\w-]+)\.results\.([\w-]+)/g)) {
    const ref = pipeline.tasks.find((t) => t.name === task);
    const declared = tasks.get(ref?.taskRef.name ?? '')?.results?.map((r) => r.name) ?? [];
    assert.ok(declared.includes(result ?? ''), `$(tasks.${task}.results.${result}) is not a result of ${ref?.taskRef.name}`);
  }
}

function checkPipelineTask(pt: PipelineTask, tasks: Map<string, TaskSpec>): void {
  const task = tasks.get(pt.taskRef.name);
  assert.ok(task, `${pt.name}: no Task ${pt.taskRef.name}`);
  const given = new Set((pt.params ?? []).map((p) => p.name));
  assert.deepEqual(undeclared(given, task.params), [], `${pt.name} passes undeclared params`);
  assert.deepEqual(missingRequired(given, task.params), [], `${pt.name} misses required params`);
  const bound = new Set((pt.workspaces ?? []).map((w) => w.name));
  const unbound = (task.workspaces ?? []).filter((w) => !w.optional && !bound.has(w.name)).map((w) => w.name);
  assert.deepEqual(unbound, [], `${pt.name} leaves required workspaces unbound`);
}

describe('the Tasks that run the training program, and the program', () => {
  let byTask: Record<string, Record<string, { type: string; properties?: string[] }>>;
  before(async () => {
    // training/results.py holds TASK_RESULTS and imports nothing outside the standard library.
    const script = 'import json, sys; sys.path.insert(0, sys.argv[1]); from training.results import TASK_RESULTS; print(json.dumps(TASK_RESULTS))';
    const { stdout } = await promisify(execFile)('python3', ['-c', script, tasksDir]);
    byTask = JSON.parse(stdout) as typeof byTask;
  });

  it('cover every Task whose steps run the trainer image', () => {
    const trainer = [...byKind<TaskSpec>('Task')].filter(([, t]) => t.steps.some((s) => s.image === '$(params.trainer-image)')).map(([n]) => n);
    assert.deepEqual(Object.keys(byTask).sort(), trainer.sort());
  });

  for (const task of ['train-model', 'train-cifar10', 'evaluate-model', 'upload-model']) {
    it(`${task}: declares the results the program writes for it, with the same types and object properties`, () => checkResults(task, byTask[task] ?? {}));
  }
});

function checkResults(task: string, written: Record<string, { type: string; properties?: string[] }>): void {
  const declared = byKind<TaskSpec>('Task').get(task)?.results ?? [];
  const asDeclared = Object.fromEntries(declared.map((r) => [r.name, {
    type: r.type ?? 'string',
    ...(r.properties ? { properties: Object.keys(r.properties).sort() } : {}),
  }]));
  const asWritten = Object.fromEntries(Object.entries(written).map(([name, r]) => [name, {
    type: r.type,
    ...(r.properties ? { properties: [...r.properties].sort() } : {}),
  }]));
  assert.deepEqual(asDeclared, asWritten);
  for (const r of declared) {
    for (const [prop, spec] of Object.entries(r.properties ?? {})) assert.equal(spec.type, 'string', `${r.name}.${prop}`);
  }
}
