// A PipelineRun train -> export through real Tekton: the PipelineRun reconciler creates the child
// TaskRuns, passes the trained model's result on as the export Task's params, and labels them;
// the operator attests the PipelineRun once, with one provenance per model (the trained and the
// exported one), and the exported model's provenance names the trained model it came from.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { testEnv, uniqueName } from '../harness/index.ts';
import { startKeySignedOperator, stopAllOperators, type OperatorProcess } from '../support/operator-process.ts';
import {
  applyObjects, createRun, isDone, loadDocuments, readStatement, stepEnv, succeeded, supplyOutcomes, tektonNamespace, waitForRun,
  type Manifest, type RunningPod, type StepOutcomes, type TektonRun,
} from '../support/tekton-runs.ts';
import { trainedModel } from '../support/tekton-training.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const repo = join(import.meta.dirname, '..', '..');
const prefix = uniqueName('tekton-pipeline');

let operator: OperatorProcess;

const exportTask: Manifest = {
  apiVersion: 'tekton.dev/v1',
  kind: 'Task',
  metadata: { name: 'export-model' },
  spec: {
    params: [{ name: 'model-uri', type: 'string' }, { name: 'model-digest', type: 'string' }, { name: 'output-uri', type: 'string' }],
    results: [
      { name: 'model_ARTIFACT_OUTPUTS', type: 'object', properties: { uri: { type: 'string' }, digest: { type: 'string' }, isBuildArtifact: { type: 'string' } } },
      { name: 'base_ARTIFACT_INPUTS', type: 'object', properties: { uri: { type: 'string' }, digest: { type: 'string' } } },
    ],
    steps: [{
      name: 'export',
      image: 'registry.example.com/slsa-ml/export:0.1.0',
      env: [
        { name: 'MODEL_URI', value: '$(params.model-uri)' },
        { name: 'MODEL_DIGEST', value: '$(params.model-digest)' },
        { name: 'OUTPUT_URI', value: '$(params.output-uri)' },
      ],
      script: '#!/bin/sh\nexec export-onnx "$MODEL_URI" "$OUTPUT_URI/model.onnx" "$(results.model_ARTIFACT_OUTPUTS.path)"\n',
    }],
  },
};

const pipeline: Manifest = {
  apiVersion: 'tekton.dev/v1',
  kind: 'Pipeline',
  metadata: { name: 'train-and-export' },
  spec: {
    params: [{ name: 'model-base-uri', type: 'string' }],
    results: [{ name: 'final-model', value: '$(tasks.export.results.model_ARTIFACT_OUTPUTS.uri)' }],
    tasks: [
      {
        name: 'train',
        taskRef: { name: 'train-model' },
        params: [{ name: 'format', value: 'pytorch_model.pth' }, { name: 'model-uri', value: '$(params.model-base-uri)/$(context.pipelineRun.name)' }],
      },
      {
        name: 'export',
        taskRef: { name: 'export-model' },
        params: [
          { name: 'model-uri', value: '$(tasks.train.results.model_ARTIFACT_OUTPUTS.uri)' },
          { name: 'model-digest', value: '$(tasks.train.results.model_ARTIFACT_OUTPUTS.digest)' },
          { name: 'output-uri', value: '$(params.model-base-uri)/$(context.pipelineRun.name)/export' },
        ],
      },
    ],
  },
};

/** What the export step does: writes model.onnx under OUTPUT_URI and names the model it came from. */
async function exported(pod: RunningPod): Promise<StepOutcomes> {
  const output = `${stepEnv(pod, 'export', 'OUTPUT_URI') ?? ''}/model.onnx`;
  const bytes = Buffer.from(`onnx export of ${stepEnv(pod, 'export', 'MODEL_URI') ?? ''}`);
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(output);
  await env.storageClient().bucket(match?.[1] ?? '').file(match?.[2] ?? '').save(bytes, { resumable: false });
  return {
    export: {
      results: {
        model_ARTIFACT_OUTPUTS: { uri: output, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, isBuildArtifact: 'true' },
        base_ARTIFACT_INPUTS: { uri: stepEnv(pod, 'export', 'MODEL_URI'), digest: stepEnv(pod, 'export', 'MODEL_DIGEST') },
      },
    },
  };
}

/** The PipelineRun's train and export TaskRuns. */
async function childrenOf(ns: string): Promise<{ train: TektonRun; exportRun: TektonRun }> {
  const children = await admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns }) as { items: TektonRun[] };
  const byTask = (task: string): TektonRun => {
    const run = children.items.find((t) => t.metadata.labels?.['tekton.dev/pipelineTask'] === task);
    assert.ok(run, `a TaskRun for ${task}`);
    return run;
  };
  return { train: byTask('train'), exportRun: byTask('export') };
}

/** The labels Tekton puts on a PipelineRun's child TaskRuns; the children carry no outcome of their own. */
async function assertChildren(ns: string, pipelineRun: string): Promise<void> {
  const { train, exportRun } = await childrenOf(ns);
  assert.equal(exportRun.metadata.labels?.['tekton.dev/pipelineRun'], pipelineRun);
  assert.equal(exportRun.metadata.labels?.['tekton.dev/pipeline'], 'train-and-export');
  assert.equal(exportRun.metadata.labels?.['tekton.dev/memberOf'], 'tasks');
  for (const child of [train, exportRun]) assert.equal(child.metadata.annotations?.['slsa-ml.dev/signed'], undefined);
}

/** The final model is the subject; the trained model its input (reported by the export task) and a measured sibling. */
async function assertExportProvenance(bundle: string, finalModel: string, trained: { uri: string; digest: string }): Promise<void> {
  const statement = await readStatement(env, bundle);
  assert.equal(statement.subject[0]?.uri, finalModel);
  const base = statement.predicate.buildDefinition.resolvedDependencies?.find((d) => d.name === 'inputs/base_ARTIFACT_INPUTS');
  assert.deepEqual({ uri: base?.uri, digest: base?.digest, task: base?.annotations?.['slsa-ml.dev/pipelineTask'] }, { uri: trained.uri, digest: { sha256: trained.digest }, task: 'export' });
  const sibling = statement.predicate.runDetails.byproducts?.find((b) => b.uri === trained.uri);
  assert.deepEqual({ digest: sibling?.digest, measured: sibling?.annotations?.['slsa-ml.dev/measured'] }, { digest: { sha256: trained.digest }, measured: true });
}

describe('a train -> export PipelineRun through real Tekton', () => {
  before(async () => {
    ({ operator } = await startKeySignedOperator(env, prefix));
  });

  after(async () => {
    await operator.stop('SIGTERM');
    await stopAllOperators();
  });

  it('attests the PipelineRun once: the exported model with the trained model as its input, and the trained model too', async () => {
    const ns = await tektonNamespace(env, 'tekton-pipeline');
    await applyObjects(admin, ns, [...loadDocuments(join(repo, 'tasks', 'train-model.yaml')), exportTask, pipeline]);
    const models: Record<string, { uri: string; digest: string }> = {};
    const runner = supplyOutcomes(env, ns, async (pod) => {
      if (pod.pipelineTask === 'export') return exported(pod);
      const model = await trainedModel(env, pod);
      models.train = model;
      return model.outcomes;
    });
    try {
      const created = await createRun(admin, ns, {
        apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { generateName: 'train-export-' },
        spec: { pipelineRef: { name: 'train-and-export' }, params: [{ name: 'model-base-uri', value: `gs://${env.bucket}/${prefix}/${ns}` }] },
      });
      const ref = { kind: 'PipelineRun', namespace: ns, name: created.metadata.name } as const;
      await waitForRun(admin, ref, isDone, { runner, timeoutMs: 60_000 });
      const pr = await waitForRun(admin, ref, (r) => r.metadata.annotations?.['slsa-ml.dev/signed'] !== undefined);
      assert.equal(succeeded(pr)?.status, 'True', JSON.stringify(succeeded(pr)));
      assert.equal(pr.metadata.annotations?.['slsa-ml.dev/signed'], 'true', pr.metadata.annotations?.['slsa-ml.dev/reason']);
      const finalModel = `gs://${env.bucket}/${prefix}/${ns}/${created.metadata.name}/export/model.onnx`;
      assert.deepEqual(pr.status?.results, [{ name: 'final-model', value: finalModel }]);

      await assertChildren(ns, created.metadata.name);

      const trained = models.train;
      assert.ok(trained);
      const bundles = (pr.metadata.annotations?.['slsa-ml.dev/bundle'] ?? '').split(',').sort();
      assert.deepEqual(bundles, [`${finalModel}.sigstore.json`, `${trained.uri}.sigstore.json`].sort());
      await assertExportProvenance(`${finalModel}.sigstore.json`, finalModel, trained);
      const trainStatement = await readStatement(env, `${trained.uri}.sigstore.json`);
      assert.equal(trainStatement.subject[0]?.digest.sha256, trained.digest);
      assert.equal(trainStatement.predicate.runDetails.metadata?.invocationId, pr.metadata.uid);
      assert.deepEqual(runner.errors, []);
    } finally {
      await runner.stop();
    }
  });
});
