// The example PipelineRuns of tasks/ (CPU, L4 GPU, TPU v5e) created as a user creates them, run
// by the real Tekton controller through tasks/train-pipeline.yaml (fetch-source -> train ->
// evaluate -> upload): its Pods placed by kube-scheduler on the fake GKE pool their nodeSelector,
// tolerations and accelerator requests fit; each task's step outcome supplied by the test
// (tekton-training.ts: the upload step uploads the model to fake GCS and reports it). The operator
// attests the PipelineRun as one run once it has completed (one provenance for the model, naming
// the commit fetch-source reported and the pool each task ran on); then, as a user does after the
// run, a standalone verify-model TaskRun (tasks/examples/taskrun-verify.yaml) checks that
// provenance, its step's own script run on this machine.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { LocalSteps } from '../../hack/env/local-steps.ts';
import { PIPELINE_BUILD_TYPE } from '../../src/provenance/constants.ts';
import { testEnv } from '../harness/index.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import {
  applyObjects, createRun, ensureBucket, isDone, loadDocuments, readStatement, succeeded, supplyOutcomes, tektonNamespace, waitForRun, type Manifest, type TektonRun,
} from '../support/tekton-runs.ts';
import { EVALUATED_ACCURACY, pipelineOutcomes, TORCH, TRAINED_COMMIT, type PipelineModel } from '../support/tekton-training.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const repo = join(import.meta.dirname, '..', '..');
const BUCKET = 'example-ml-models';
// verify-model's default builder-id: the operator must sign as it.
const BUILDER_ID = 'https://slsa-ml.dev/operator/local';
const TASK_FILES = ['fetch-source.yaml', 'train-cifar10.yaml', 'evaluate-model.yaml', 'upload-model.yaml', 'train-pipeline.yaml', 'verify-model.yaml'];
const ALPINE_GIT = { uri: 'oci://docker.io/alpine/git', digest: { sha256: '062a01ad7a0eb17cff382bc5e26086b4d710e56dfdfdf001109a49b6d9bd378c' } };

let keys: SigningKeys;
let operator: OperatorProcess;
let work: string;

interface TaskFacts {
  pipelineTask: string;
  taskRun: string;
  node?: { name?: string; nodePool?: string; machineType?: string };
  accelerator?: Record<string, unknown>;
}

interface Statement {
  subject: Array<{ name: string; uri?: string; digest: { sha256: string } }>;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: { runSpec: Record<string, unknown> };
      internalParameters: { tasks: TaskFacts[] } & Record<string, unknown>;
      resolvedDependencies: Array<{ name?: string; uri?: string; digest?: Record<string, string>; annotations?: Record<string, unknown> }>;
    };
    runDetails: { builder: { id: string }; metadata: { invocationId: string } };
  };
}

interface ExampleRun {
  readonly pipelineRun: TektonRun;
  /** The child TaskRuns by pipeline task. */
  readonly children: Map<string, TektonRun>;
  readonly model: PipelineModel;
  readonly statement: Statement;
  readonly verify: TektonRun;
  readonly verifyLog: string[];
}

const annotationsOf = (run: TektonRun): Record<string, string> => run.metadata.annotations ?? {};
const signedOrFailed = (run: TektonRun): boolean => annotationsOf(run)['slsa-ml.dev/signed'] !== undefined;

/**
 * The example as a user creates it, but for its workspace: the examples ask for a disk per run
 * (volumeClaimTemplate), and nothing here provisions volumes (no storage driver, no
 * kube-controller-manager to bind claims or run the affinity assistant's StatefulSet), so the run
 * gets an emptyDir. The steps' outcomes are supplied, so nothing passes through it anyway.
 */
function examplePipelineRun(example: string): Manifest {
  const [run] = loadDocuments(join(repo, 'tasks', 'examples', `pipelinerun-${example}.yaml`));
  assert.ok(run);
  const spec = run.spec as { workspaces: Array<{ name: string; volumeClaimTemplate?: unknown }> };
  assert.deepEqual(spec.workspaces.map((w) => [w.name, w.volumeClaimTemplate !== undefined]), [['shared', true]]);
  return { ...run, spec: { ...spec, workspaces: [{ name: 'shared', emptyDir: {} }] } };
}

/** tasks/examples/taskrun-verify.yaml for `modelUri`, as a user fills it in after the run. */
function verifyTaskRun(modelUri: string): Manifest {
  const [run] = loadDocuments(join(repo, 'tasks', 'examples', 'taskrun-verify.yaml'));
  assert.ok(run);
  const spec = run.spec as { params: Array<{ name: string; value: string }> };
  const params = spec.params.map((p) => (p.name === 'model-uri' ? { ...p, value: modelUri } : p));
  return { ...run, spec: { ...spec, params } };
}

async function childTaskRuns(ns: string, pipelineRun: string): Promise<Map<string, TektonRun>> {
  const list = await admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, labelSelector: `tekton.dev/pipelineRun=${pipelineRun}`,
  }) as { items: TektonRun[] };
  return new Map(list.items.map((t) => [t.metadata.labels?.['tekton.dev/pipelineTask'] ?? '', t]));
}

async function runExample(example: string): Promise<ExampleRun> {
  const ns = await tektonNamespace(env, `example-${example}`, ['trainer']);
  await admin.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'slsa-ml-verify-key' }, stringData: { 'cosign.pub': keys.publicKeyPem } } });
  await applyObjects(admin, ns, TASK_FILES.flatMap((f) => loadDocuments(join(repo, 'tasks', f))));
  const verifyLog: string[] = [];
  const models: PipelineModel[] = [];
  const local = new LocalSteps({ kc: admin, gcsEndpoint: env.gcsEndpoint, workDir: work, log: (step, line) => verifyLog.push(`${step}: ${line}`) });
  // The pipeline's Pods get supplied outcomes; the standalone verify TaskRun's Pod runs its script here.
  const runner = supplyOutcomes(env, ns, (pod) => (pod.pipelineRun === undefined ? local.run(pod) : pipelineOutcomes(env, pod, models)));
  const operatorLog = (): string => `operator:\n${operator.output().slice(-3000)}`;
  try {
    const created = await createRun(admin, ns, examplePipelineRun(example));
    const ref = { kind: 'PipelineRun', namespace: ns, name: created.metadata.name } as const;
    const done = await waitForRun(admin, ref, isDone, { timeoutMs: 90_000, runner });
    const children = await childTaskRuns(ns, created.metadata.name);
    assert.equal(succeeded(done)?.status, 'True', `${JSON.stringify(succeeded(done))}\nchildren: ${JSON.stringify([...children].map(([t, r]) => [t, succeeded(r)]))}`);
    assert.deepEqual([...children.keys()].sort(), ['evaluate', 'fetch-source', 'train', 'upload']);
    assert.equal(models.length, 1);
    const model = models[0] as PipelineModel;

    // The operator's outcome on the PipelineRun, after it completed.
    const pipelineRun = await waitForRun(admin, ref, signedOrFailed, { timeoutMs: 60_000 }).catch((err: unknown) => assert.fail(`${String(err)}\n${operatorLog()}`));
    const annotations = annotationsOf(pipelineRun);
    assert.equal(annotations['slsa-ml.dev/signed'], 'true', `${annotations['slsa-ml.dev/reason'] ?? ''}\n${operatorLog()}`);
    assert.equal(annotations['slsa-ml.dev/bundle'], `${model.uri.replace(/\/$/, '')}.sigstore.json`);
    const statement = (await readStatement(env, annotations['slsa-ml.dev/bundle'] ?? '')) as unknown as Statement;

    // Verification comes after the run: a TaskRun of its own, against that provenance.
    const verifyRun = await createRun(admin, ns, verifyTaskRun(model.uri));
    const verify = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: verifyRun.metadata.name }, isDone, { timeoutMs: 60_000, runner });
    assert.equal(succeeded(verify)?.status, 'True', `verify log:\n${verifyLog.join('\n')}`);
    assert.deepEqual(runner.errors, []);
    return { pipelineRun, children: await childTaskRuns(ns, created.metadata.name), model, statement, verify, verifyLog };
  } finally {
    local.stop();
    await runner.stop();
  }
}

const taskFacts = (statement: Statement, pipelineTask: string): TaskFacts | undefined =>
  statement.predicate.buildDefinition.internalParameters.tasks.find((t) => t.pipelineTask === pipelineTask);

/** The source commit reported by fetch-source, a task other than the one that uploaded the model; every task's images. */
function assertDependencies(statement: Statement, trainerImage: string): void {
  const { resolvedDependencies } = statement.predicate.buildDefinition;
  const source = resolvedDependencies.find((d) => d.name === 'source');
  assert.deepEqual(source?.digest, { sha1: TRAINED_COMMIT });
  assert.equal(source?.uri, 'git+https://github.com/example/slsa-ml.git');
  assert.equal(source?.annotations?.['slsa-ml.dev/pipelineTask'], 'fetch-source');
  const byName = new Map(resolvedDependencies.map((d) => [d.name ?? d.uri ?? '', d]));
  // By digest where the (stand-in) kubelet reported one.
  const clone = byName.get('pipelineTask/fetch-source/step/clone');
  assert.deepEqual({ uri: clone?.uri, digest: clone?.digest }, ALPINE_GIT);
  for (const task of ['train', 'evaluate', 'upload']) {
    assert.equal(byName.get(`pipelineTask/${task}/step/${task}`)?.uri, `oci://${trainerImage}`, task);
  }
  assert.ok(byName.get(TORCH), 'the frameworks train reported');
}

/** Every task's node and the TaskRun it ran as; all but train on the CPU pool. */
function assertTasks(statement: Statement, children: ReadonlyMap<string, TektonRun>): void {
  const tasks = statement.predicate.buildDefinition.internalParameters.tasks;
  assert.deepEqual(tasks.map((t) => t.pipelineTask).sort(), ['evaluate', 'fetch-source', 'train', 'upload']);
  for (const t of tasks) assert.equal(t.taskRun, children.get(t.pipelineTask)?.metadata.name, t.pipelineTask);
  for (const task of ['fetch-source', 'evaluate', 'upload']) {
    assert.equal(taskFacts(statement, task)?.node?.nodePool, 'cpu-pool', task);
    assert.equal(taskFacts(statement, task)?.accelerator, undefined, task);
  }
}

/** What every example's provenance says, whatever pool its train task ran on. */
function assertPipelineProvenance(run: ExampleRun, trainerImage = 'registry.example.com/slsa-ml/training'): void {
  const { statement, model, pipelineRun, children } = run;
  assert.equal(statement.predicate.buildDefinition.buildType, PIPELINE_BUILD_TYPE);
  // One provenance, for the one model the upload task published (and the Pipeline re-exported).
  assert.deepEqual(statement.subject.map((s) => [s.uri, s.digest.sha256]), [[model.uri, model.digest]]);
  assert.equal(statement.predicate.runDetails.metadata.invocationId, pipelineRun.metadata.uid);
  assert.equal(statement.predicate.runDetails.builder.id, BUILDER_ID);
  assertDependencies(statement, trainerImage);
  assertTasks(statement, children);
  // A TaskRun of the PipelineRun is attested at the pipeline level only.
  for (const [task, child] of children) assert.equal(annotationsOf(child)['slsa-ml.dev/signed'], undefined, task);
  assert.ok(JSON.stringify(pipelineRun.status?.results).includes(EVALUATED_ACCURACY), 'the accuracy is a Pipeline result');
  assert.ok(run.verifyLog.some((l) => /^verify: VERIFIED$/.test(l)), run.verifyLog.join('\n'));
}

describe('the example PipelineRuns in tasks/examples, through real Tekton, then verified by a TaskRun of their own', () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tekton-examples-'));
    await ensureBucket(env, BUCKET);
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
    operator = await startOperator(env, {
      allowedPrefixes: [`gs://${BUCKET}/cifar10/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint, userProject: 'slsa-ml-test' } },
      signer: { kind: 'key', keyPath: keys.privateKeyPath },
      builderId: BUILDER_ID,
      leaderElection: { enabled: false },
    });
    await operator.ready();
  });

  after(async () => {
    await operator.stop('SIGTERM');
    await stopAllOperators();
    rmSync(work, { recursive: true, force: true });
  });

  it('CPU: every task on the CPU pool; one provenance for the .pth model names the commit fetch-source reported; verify-model accepts it', async () => {
    const run = await runExample('cpu');
    assertPipelineProvenance(run);
    assert.match(run.model.uri, /^gs:\/\/example-ml-models\/cifar10\/cifar10-cpu-\w+\/pytorch_model\.pth$/);
    assert.deepEqual({ ...taskFacts(run.statement, 'train')?.node, name: undefined }, { name: undefined, nodePool: 'cpu-pool', machineType: 'e2-standard-8' });
    assert.equal(taskFacts(run.statement, 'train')?.accelerator, undefined);
    const runSpec = run.statement.predicate.buildDefinition.externalParameters.runSpec;
    assert.deepEqual(runSpec.pipelineRef, { name: 'train-pipeline' });
  });

  it('GPU: the train task lands on the L4 pool (nodeSelector, toleration, nvidia.com/gpu), the others on CPU; the SavedModel directory is attested', async () => {
    const run = await runExample('gpu');
    assertPipelineProvenance(run);
    assert.match(run.model.uri, /\/tensorflow_saved_model\/$/);
    const train = taskFacts(run.statement, 'train');
    assert.equal(train?.node?.nodePool, 'l4-pool');
    assert.equal(train?.node?.machineType, 'g2-standard-8');
    assert.ok(train?.node?.name, 'the GPU node by name');
    assert.deepEqual(train?.accelerator, { kind: 'gpu', type: 'nvidia-l4', count: 1 });
    const runSpec = run.statement.predicate.buildDefinition.externalParameters.runSpec as { taskRunSpecs?: Array<{ pipelineTaskName: string; podTemplate?: { nodeSelector?: unknown } }> };
    assert.deepEqual(runSpec.taskRunSpecs?.map((s) => [s.pipelineTaskName, s.podTemplate?.nodeSelector]), [['train', { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }]]);
  });

  it('TPU: the train task lands on the TPU v5e 2x2 pool and the provenance records the slice', async () => {
    const run = await runExample('tpu');
    // The TPU variant of the training image (tensorflow-tpu with libtpu) runs train, evaluate and upload.
    assertPipelineProvenance(run, 'registry.example.com/slsa-ml/training-tpu');
    const train = taskFacts(run.statement, 'train');
    assert.equal(train?.node?.nodePool, 'tpu-v5e-pool');
    assert.equal(train?.node?.machineType, 'ct5lp-hightpu-4t');
    assert.deepEqual(train?.accelerator, { kind: 'tpu', type: 'tpu-v5-lite-podslice', topology: '2x2', count: 4 });
  });
});
