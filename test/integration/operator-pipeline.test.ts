// Training pipelines through real Tekton: the operator attests a PipelineRun as one run, once it
// completes, reading every child TaskRun (deep inspection). One provenance per model, written
// beside it: it names the source commit the fetch task reported, the train task's images and its
// GPU node, and the PipelineRun's UID; `slsa-ml verify --source-repo` and cosign accept it. Then
// the shapes pipelines take: a retried task, a skipped task, a failed finally task, a matrix of
// formats, and twenty tasks.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli } from '../support/cli.ts';
import { cosignVerifyAttestation } from '../support/cosign.ts';
import { startKeySignedOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { DATASET, SOURCE_COMMIT, SOURCE_REPO, TASKS, TORCH, pipeline, pipelineRun, playSteps, trainingPipeline } from '../support/tekton-pipelines.ts';
import { applyObjects, createRun, isDone, readStatement, succeeded, supplyOutcomes, tektonNamespace, waitForRun, type Manifest, type PodHandler, type TektonRun } from '../support/tekton-runs.ts';
import type { Statement } from '../../src/provenance/index.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const prefix = uniqueName('op-pipeline');
const BUILDER = 'https://slsa-ml.dev/operator/test';

let operator: OperatorProcess;
let keys: SigningKeys;

interface Finished {
  readonly pr: TektonRun;
  readonly uploaded: Map<string, Buffer>;
  readonly children: TektonRun[];
}

const outcomeOf = (run: TektonRun): string | undefined => run.metadata.annotations?.['slsa-ml.dev/signed'];
const reasonOf = (run: TektonRun): string => run.metadata.annotations?.['slsa-ml.dev/reason'] ?? '';

/** Applies the Tasks and `pipe`, runs a PipelineRun of it through Tekton, and waits for the operator's outcome (or `until`). */
async function runPipeline(hint: string, pipe: Manifest, options: { handler?: (play: PodHandler) => PodHandler; run?: (modelBase: string) => Manifest; until?: (run: TektonRun) => boolean; deleteWhenDone?: boolean } = {}): Promise<Finished> {
  const ns = await tektonNamespace(env, hint);
  await applyObjects(admin, ns, [...TASKS, pipe]);
  const uploaded = new Map<string, Buffer>();
  const play = playSteps(env, uploaded);
  const runner = supplyOutcomes(env, ns, options.handler ? options.handler(play) : play);
  const modelBase = `gs://${env.bucket}/${prefix}/${ns}`;
  try {
    const created = await createRun(admin, ns, options.run ? options.run(modelBase) : pipelineRun(pipe.metadata?.name ?? '', modelBase));
    const ref = { kind: 'PipelineRun', namespace: ns, name: created.metadata.name } as const;
    const done = await waitForRun(admin, ref, isDone, { runner, timeoutMs: 90_000 });
    if (options.deleteWhenDone) await admin.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'pipelineruns', namespace: ns, name: created.metadata.name });
    const pr = options.deleteWhenDone ? done : await waitForRun(admin, ref, options.until ?? ((r) => outcomeOf(r) !== undefined), { timeoutMs: 60_000 });
    const list = await admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, labelSelector: `tekton.dev/pipelineRun=${created.metadata.name}` }) as { items: TektonRun[] };
    return { pr, uploaded, children: list.items };
  } finally {
    await runner.stop();
  }
}

async function objectsUnder(uriPrefix: string): Promise<string[]> {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uriPrefix);
  const [files] = await env.storageClient().bucket(match?.[1] ?? '').getFiles({ prefix: match?.[2] ?? '' });
  return files.map((f) => `gs://${match?.[1] ?? ''}/${f.name}`).sort();
}

async function contentOf(uri: string): Promise<Buffer> {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  const [bytes] = await env.storageClient().bucket(match?.[1] ?? '').file(match?.[2] ?? '').download();
  return bytes;
}

interface TaskFacts { pipelineTask: string; taskRun: string; node?: { nodePool?: string }; accelerator?: { kind?: string; type?: string; count?: number }; attempts?: number; outcome?: string }
const tasksOf = (s: Statement): TaskFacts[] => (s.predicate.buildDefinition.internalParameters as unknown as { tasks: TaskFacts[] }).tasks;

/** The pipeline statement names the PipelineRun, the fetch task's source, the train task's image, frameworks and GPU node. */
function assertPipelineStatement(statement: Statement, pr: TektonRun): void {
  assert.equal(statement.predicate.buildDefinition.buildType, 'https://slsa-ml.dev/buildtypes/tekton-pipeline/v1');

  assert.equal(statement.predicate.runDetails.metadata?.invocationId, pr.metadata.uid);
  const deps = statement.predicate.buildDefinition.resolvedDependencies ?? [];
  const source = deps.find((d) => d.name === 'source');
  assert.deepEqual({ uri: source?.uri, digest: source?.digest, task: source?.annotations?.['slsa-ml.dev/pipelineTask'] }, { uri: `git+${SOURCE_REPO}.git`, digest: { sha1: SOURCE_COMMIT }, task: 'fetch' });
  const trainImage = deps.find((d) => d.name === 'pipelineTask/train/step/train');
  assert.match(trainImage?.uri ?? '', /^oci:\/\/registry\.example\.com\/slsa-ml\/training/);
  assert.match(trainImage?.digest?.sha256 ?? '', /^[0-9a-f]{64}$/);
  assert.ok(deps.some((d) => d.uri === TORCH && d.annotations?.['slsa-ml.dev/pipelineTask'] === 'train'), 'the train task\'s frameworks');
  assert.ok(deps.some((d) => d.uri === DATASET.uri && d.digest?.sha256 === DATASET.sha256), 'the dataset');
  assertPlacement(tasksOf(statement));
}

/** Each task's node pool: the train task on the L4 GPU pool with its GPU, the others on CPU. */
function assertPlacement(tasks: TaskFacts[]): void {
  assert.deepEqual(tasks.map((t) => t.pipelineTask).sort(), ['evaluate', 'fetch', 'train', 'upload']);
  const train = tasks.find((t) => t.pipelineTask === 'train');
  assert.deepEqual({ pool: train?.node?.nodePool, accelerator: train?.accelerator }, { pool: 'l4-pool', accelerator: { kind: 'gpu', type: 'nvidia-l4', count: 1 } });
  for (const t of tasks.filter((x) => x.pipelineTask !== 'train')) {
    assert.equal(t.node?.nodePool, 'cpu-pool', `${t.pipelineTask} ran on the CPU pool`);
    assert.equal(t.accelerator, undefined);
  }
}

/** cosign accepts the bundle; `slsa-ml verify --source-repo` passes for the fetched repository and fails for another. */
async function assertVerifiers(uri: string, bytes: Buffer): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'op-pipeline-'));
  const modelPath = join(work, 'pytorch_model.pth');
  writeFileSync(modelPath, bytes);
  writeFileSync(join(work, 'bundle.json'), await contentOf(`${uri}.sigstore.json`));
  const cosign = await cosignVerifyAttestation({ publicKeyPath: keys.publicKeyPath, bundlePath: join(work, 'bundle.json'), artifact: { file: modelPath } });
  assert.ok(cosign.ok, cosign.output);
  const verify = await cli(['verify', uri, '--key', keys.publicKeyPath, '--gcs-endpoint', env.gcsEndpoint, '--builder-id', BUILDER, '--source-repo', SOURCE_REPO]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const other = await cli(['verify', uri, '--key', keys.publicKeyPath, '--gcs-endpoint', env.gcsEndpoint, '--source-repo', 'https://github.com/acme/another-repo']);
  assert.equal(other.code, 1, other.stdout + other.stderr);
}

describe('training PipelineRuns through real Tekton', () => {
  before(async () => {
    ({ operator, keys } = await startKeySignedOperator(env, prefix));
  });

  after(async () => {
    await operator.stop('SIGTERM');
    await stopAllOperators();
  });

  it('leaves exactly one provenance beside the model of a fetch → train (GPU) → evaluate → upload pipeline, naming the source, the train task\'s images and GPU node, and the PipelineRun', async () => {
    const { pr, uploaded, children } = await runPipeline('pipeline-main', trainingPipeline());
    assert.equal(succeeded(pr)?.status, 'True');
    assert.equal(outcomeOf(pr), 'true', reasonOf(pr));
    assert.equal(pr.metadata.labels?.['slsa-ml.dev/provenance'], 'signed');
    assert.ok(!(pr.metadata.finalizers ?? []).includes('slsa-ml.dev/provenance'), 'the finalizer is released');
    const [[uri, bytes] = []] = [...uploaded];
    assert.ok(uri && bytes);
    assert.equal(pr.metadata.annotations?.['slsa-ml.dev/bundle'], `${uri}.sigstore.json`);
    // Exactly one provenance: the three siblings of the one model, nothing else written.
    const dir = uri.slice(0, uri.lastIndexOf('/') + 1);
    assert.deepEqual(await objectsUnder(dir), [uri, `${uri}.intoto.jsonl`, `${uri}.sig`, `${uri}.sigstore.json`].sort());
    // The child TaskRuns are not attested on their own: no outcome on any of them.
    assert.equal(children.length, 4);
    for (const child of children) assert.equal(outcomeOf(child), undefined, `${child.metadata.name} carries no outcome`);

    assertPipelineStatement(await readStatement(env, `${uri}.sigstore.json`), pr);
    await assertVerifiers(uri, bytes);
  });

  it('records a retried train task once, with its attempts, and attests the model', async () => {
    const { pr } = await runPipeline('pipeline-retry', trainingPipeline('train-retried', { trainRetries: 1 }), {
      handler: (play) => async (pod) => (pod.pipelineTask === 'train' && pod.attempt === 0 ? { train: { exitCode: 1 } } : play(pod)),
    });
    assert.equal(outcomeOf(pr), 'true', reasonOf(pr));
    const statement = await readStatement(env, pr.metadata.annotations?.['slsa-ml.dev/bundle'] ?? '');
    const train = tasksOf(statement).filter((t) => t.pipelineTask === 'train');
    assert.equal(train.length, 1);
    assert.equal(train[0]?.attempts, 2);
  });

  it('names a task skipped by its when expression and attests what ran', async () => {
    const { pr } = await runPipeline('pipeline-skip', trainingPipeline('train-skip-eval', { evaluateWhen: [{ input: 'no', operator: 'in', values: ['yes'] }] }));
    assert.equal(outcomeOf(pr), 'true', reasonOf(pr));
    const statement = await readStatement(env, pr.metadata.annotations?.['slsa-ml.dev/bundle'] ?? '');
    assert.deepEqual(tasksOf(statement).map((t) => t.pipelineTask).sort(), ['fetch', 'train', 'upload']);
    const skipped = (statement.predicate.buildDefinition.internalParameters as unknown as { skippedTasks?: Array<{ name: string }> }).skippedTasks;
    assert.deepEqual(skipped?.map((s) => s.name), ['evaluate']);
  });

  it('does not attest a PipelineRun whose finally task failed (the run failed), and writes nothing beside its model', async () => {
    const notify = { name: 'notify', taskRef: { name: 'evaluate' } };
    const { pr, uploaded } = await runPipeline('pipeline-finally', trainingPipeline('train-finally', { finally: [notify] }), {
      handler: (play) => async (pod) => (pod.pipelineTask === 'notify' ? { evaluate: { exitCode: 1 } } : play(pod)),
      // Nothing to wait for from the operator: give it the time an attestation takes, then look.
      until: () => true,
    });
    assert.equal(succeeded(pr)?.status, 'False');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await waitForRun(admin, { kind: 'PipelineRun', namespace: pr.metadata.namespace, name: pr.metadata.name }, () => true);
    assert.equal(outcomeOf(after), undefined);
    const [uri] = [...uploaded.keys()];
    assert.ok(uri);
    assert.deepEqual(await objectsUnder(`${uri}.`), [], 'no provenance for a failed run');
  });

  it('attests each model of a matrix of formats once, each naming the other as its sibling', async () => {
    const matrixPipeline = pipeline({
      name: 'train-matrix',
      reexport: false,
      tasks: [
        { name: 'fetch', taskRef: { name: 'fetch-source' }, params: [{ name: 'url', value: '$(params.git-url)' }] },
        { name: 'train', runAfter: ['fetch'], taskRef: { name: 'train' } },
        { name: 'upload', runAfter: ['train'], taskRef: { name: 'upload' }, matrix: { params: [{ name: 'model-uri', value: ['$(params.model-base-uri)/$(context.pipelineRun.name)/pytorch_model.pth', '$(params.model-base-uri)/$(context.pipelineRun.name)/tensorflow_model.keras'] }] } },
      ],
    });
    const { pr, uploaded } = await runPipeline('pipeline-matrix', matrixPipeline);
    assert.equal(outcomeOf(pr), 'true', reasonOf(pr));
    const bundles = (pr.metadata.annotations?.['slsa-ml.dev/bundle'] ?? '').split(',').sort();
    assert.deepEqual(bundles, [...uploaded.keys()].map((u) => `${u}.sigstore.json`).sort());
    for (const bundle of bundles) {
      const statement = await readStatement(env, bundle);
      const model = bundle.replace(/\.sigstore\.json$/, '');
      assert.deepEqual(statement.subject.map((s) => s.uri), [model]);
      const sibling = statement.predicate.runDetails.byproducts?.find((b) => b.uri !== undefined && b.uri !== model && uploaded.has(b.uri));
      assert.ok(sibling, 'the other format is a byproduct');
      assert.equal(sibling.annotations?.['slsa-ml.dev/measured'], true);
      assert.equal(tasksOf(statement).filter((t) => t.pipelineTask === 'upload').length, 2, 'both matrix TaskRuns');
    }
  });

  it('holds a running PipelineRun whose task declares a model, and attests it although it is deleted the moment it completes', async () => {
    const { pr, uploaded } = await runPipeline('pipeline-held', trainingPipeline('train-held'), {
      handler: (play) => async (pod) => {
        if (pod.pipelineTask !== 'upload') return play(pod);
        // The upload task's Pod runs until the operator holds the PipelineRun.
        await waitForRun(admin, { kind: 'PipelineRun', namespace: pod.namespace, name: pod.pipelineRun ?? '' }, (r) => (r.metadata.finalizers ?? []).includes('slsa-ml.dev/provenance'), { timeoutMs: 30_000 });
        return play(pod);
      },
      deleteWhenDone: true,
    });
    const [uri] = [...uploaded.keys()];
    assert.ok(uri);
    // Gone only once the operator has stored the provenance and released its finalizer.
    const deadline = Date.now() + 60_000;
    const api = admin.makeApiClient(CustomObjectsApi);
    const stillThere = (): Promise<boolean> => api.getNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'pipelineruns', namespace: pr.metadata.namespace, name: pr.metadata.name }).then(() => true, () => false);
    while ((await stillThere()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await stillThere(), false, 'the PipelineRun is gone once released');
    const statement = await readStatement(env, `${uri}.sigstore.json`);
    assert.equal(statement.predicate.runDetails.metadata?.invocationId, pr.metadata.uid);
  });

  it('attests a twenty-task pipeline, every task recorded', async () => {
    const prep = Array.from({ length: 16 }, (_, i) => ({ name: `prep-${i}`, runAfter: ['fetch'], taskRef: { name: 'evaluate' } }));
    const twenty = pipeline({
      name: 'train-twenty',
      tasks: [
        { name: 'fetch', taskRef: { name: 'fetch-source' }, params: [{ name: 'url', value: '$(params.git-url)' }] },
        ...prep,
        { name: 'train', runAfter: prep.map((p) => p.name), taskRef: { name: 'train' } },
        { name: 'evaluate', runAfter: ['train'], taskRef: { name: 'evaluate' } },
        { name: 'upload', runAfter: ['evaluate'], taskRef: { name: 'upload' }, params: [{ name: 'model-uri', value: '$(params.model-base-uri)/$(context.pipelineRun.name)/pytorch_model.pth' }] },
      ],
    });
    const { pr } = await runPipeline('pipeline-twenty', twenty, { handler: (play) => async (pod) => (pod.pipelineTask?.startsWith('prep-') ? { evaluate: { results: { accuracy: '1' } } } : play(pod)) });
    assert.equal(outcomeOf(pr), 'true', reasonOf(pr));
    const statement = await readStatement(env, pr.metadata.annotations?.['slsa-ml.dev/bundle'] ?? '');
    assert.equal(tasksOf(statement).length, 20);
  });
});
