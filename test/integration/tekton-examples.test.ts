// The example PipelineRuns of tasks/ (CPU, L4 GPU, TPU v5e) created as a user creates them, run
// by the real Tekton controller: its Pods placed by kube-scheduler on the fake GKE pool their
// nodeSelector, tolerations and accelerator requests fit; the train step's outcome supplied by
// the test (it uploads the model where the step would and reports the Task's results,
// tekton-training.ts); the verify step's own script run on this machine against the provenance
// the operator wrote.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { LocalSteps } from '../../hack/env/local-steps.ts';
import { testEnv } from '../harness/index.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import {
  applyObjects, createRun, ensureBucket, isDone, loadDocuments, readStatement, succeeded, supplyOutcomes, tektonNamespace, waitForRun, type TektonRun,
} from '../support/tekton-runs.ts';
import { TORCH, TRAINED_COMMIT, trainedModel } from '../support/tekton-training.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const repo = join(import.meta.dirname, '..', '..');
const BUCKET = 'example-ml-models';
// The train-and-verify Pipeline's default builder-id: the operator must sign as it.
const BUILDER_ID = 'https://slsa-ml.dev/operator/local';

let keys: SigningKeys;
let operator: OperatorProcess;
let work: string;

interface ExampleRun {
  readonly pipelineRun: TektonRun;
  readonly train: TektonRun;
  readonly verifyLog: string[];
}

async function runExample(example: string): Promise<ExampleRun> {
  const ns = await tektonNamespace(env, `example-${example}`, ['trainer']);
  await admin.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'slsa-ml-verify-key' }, stringData: { 'cosign.pub': keys.publicKeyPem } } });
  await applyObjects(admin, ns, ['train-model.yaml', 'verify-model.yaml', 'train-and-verify.yaml'].flatMap((f) => loadDocuments(join(repo, 'tasks', f))));
  const verifyLog: string[] = [];
  const local = new LocalSteps({ kc: admin, gcsEndpoint: env.gcsEndpoint, workDir: work, log: (step, line) => verifyLog.push(`${step}: ${line}`) });
  const runner = supplyOutcomes(env, ns, async (pod) => (pod.pipelineTask === 'verify' ? local.run(pod) : (await trainedModel(env, pod)).outcomes));
  try {
    const [example_] = loadDocuments(join(repo, 'tasks', 'examples', `pipelinerun-${example}.yaml`));
    assert.ok(example_);
    const created = await createRun(admin, ns, example_);
    const pipelineRun = await waitForRun(admin, { kind: 'PipelineRun', namespace: ns, name: created.metadata.name }, isDone, { timeoutMs: 90_000, runner });
    const runs = await admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, labelSelector: 'tekton.dev/pipelineTask=train' }) as { items: TektonRun[] };
    assert.equal(runs.items.length, 1);
    const train = runs.items[0] as TektonRun;
    assert.equal(succeeded(pipelineRun)?.status, 'True', `${JSON.stringify(succeeded(pipelineRun))}\ntrain: ${JSON.stringify(train.metadata.annotations)}\nverify log:\n${verifyLog.join('\n')}\noperator:\n${operator.output().slice(-3000)}`);
    assert.deepEqual(runner.errors, []);
    return { pipelineRun, train, verifyLog };
  } finally {
    local.stop();
    await runner.stop();
  }
}

interface Statement {
  subject: Array<{ name: string; uri?: string; digest: { sha256: string } }>;
  predicate: {
    buildDefinition: { externalParameters: { runSpec: Record<string, unknown> }; internalParameters: Record<string, unknown>; resolvedDependencies: Array<{ name?: string; uri?: string; digest?: Record<string, string> }> };
    runDetails: { builder: { id: string; version: Record<string, string> }; metadata: { invocationId: string } };
  };
}

async function provenanceOf(train: TektonRun): Promise<Statement> {
  const annotations = train.metadata.annotations ?? {};
  assert.equal(annotations['slsa-ml.dev/signed'], 'true', annotations['slsa-ml.dev/reason']);
  return (await readStatement(env, annotations['slsa-ml.dev/bundle'] ?? '')) as unknown as Statement;
}

describe('the example PipelineRuns in tasks/examples, through real Tekton', () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tekton-examples-'));
    await ensureBucket(env, BUCKET);
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
    operator = await startOperator(env, {
      allowedPrefixes: [`gs://${BUCKET}/cifar10/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint, projectId: 'slsa-ml-test' } },
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

  it('CPU: trains on the CPU pool, the operator attests the .pth model, and the verify task accepts it', async () => {
    const { train, verifyLog } = await runExample('cpu');
    const statement = await provenanceOf(train);
    const { internalParameters, externalParameters, resolvedDependencies } = statement.predicate.buildDefinition;
    assert.match(statement.subject[0]?.uri ?? '', /^gs:\/\/example-ml-models\/cifar10\/cifar10-cpu-\w+\/pytorch_model\.pth$/);
    assert.deepEqual({ ...internalParameters.node as object, name: undefined }, { name: undefined, nodePool: 'cpu-pool', machineType: 'e2-standard-8' });
    assert.equal(internalParameters.accelerator, undefined);
    assert.equal((internalParameters['tekton-pipelines-feature-flags'] as Record<string, unknown>).resultExtractionMethod, 'termination-message');
    assert.equal(statement.predicate.runDetails.metadata.invocationId, train.metadata.uid);
    // Tekton's release annotation on the Pod carries its short commit, not a version number.
    assert.deepEqual(statement.predicate.runDetails.builder.version['tekton-pipelines'], '0cc7987');
    // The child TaskRun's spec as Tekton's PipelineRun reconciler wrote it.
    assert.equal(externalParameters.runSpec.serviceAccountName, 'trainer');
    assert.deepEqual(externalParameters.runSpec.taskRef, { name: 'train-model', kind: 'Task' });
    const byName = new Map(resolvedDependencies.map((d) => [d.name ?? d.uri ?? '', d]));
    // Image digests as the (stand-in) kubelet reported them, copied by Tekton into status.steps[].imageID.
    assert.deepEqual(byName.get('step/clone'), { name: 'step/clone', uri: 'oci://docker.io/alpine/git', digest: { sha256: '062a01ad7a0eb17cff382bc5e26086b4d710e56dfdfdf001109a49b6d9bd378c' } });
    assert.equal(byName.get('step/train')?.uri, 'oci://registry.example.com/slsa-ml/training');
    assert.deepEqual(byName.get('source')?.digest, { sha1: TRAINED_COMMIT });
    assert.equal(byName.get('source')?.uri, 'git+https://github.com/example/slsa-ml.git');
    assert.ok(byName.get(TORCH));
    assert.ok(verifyLog.some((l) => /^verify: VERIFIED$/.test(l)), verifyLog.join('\n'));
  });

  it('GPU: the train Pod lands on the L4 pool (nodeSelector, toleration, nvidia.com/gpu), and the SavedModel directory is attested', async () => {
    const { train, verifyLog } = await runExample('gpu');
    const statement = await provenanceOf(train);
    const { internalParameters, externalParameters } = statement.predicate.buildDefinition;
    assert.match(statement.subject[0]?.uri ?? '', /\/tensorflow_saved_model\/$/);
    assert.equal((internalParameters.node as Record<string, string>).nodePool, 'l4-pool');
    assert.equal((internalParameters.node as Record<string, string>).machineType, 'g2-standard-8');
    assert.deepEqual(internalParameters.accelerator, { kind: 'gpu', type: 'nvidia-l4', count: 1 });
    const podTemplate = externalParameters.runSpec.podTemplate as Record<string, unknown>;
    assert.deepEqual(podTemplate.nodeSelector, { 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    assert.ok(verifyLog.some((l) => /^verify: VERIFIED$/.test(l)), verifyLog.join('\n'));
  });

  it('TPU: the train Pod lands on the TPU v5e 2x2 pool and the provenance records the slice', async () => {
    const { train, verifyLog } = await runExample('tpu');
    const statement = await provenanceOf(train);
    const { internalParameters } = statement.predicate.buildDefinition;
    assert.equal((internalParameters.node as Record<string, string>).nodePool, 'tpu-v5e-pool');
    assert.equal((internalParameters.node as Record<string, string>).machineType, 'ct5lp-hightpu-4t');
    assert.deepEqual(internalParameters.accelerator, { kind: 'tpu', type: 'tpu-v5-lite-podslice', topology: '2x2', count: 4 });
    assert.ok(verifyLog.some((l) => /^verify: VERIFIED$/.test(l)), verifyLog.join('\n'));
  });
});
