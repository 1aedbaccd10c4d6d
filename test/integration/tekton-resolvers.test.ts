// Tasks and StepActions fetched by Tekton's remote resolvers (the real cmd/resolvers process):
// the git resolver clones a repository on this machine, the cluster resolver reads another
// namespace. Tekton records where each definition came from (status.provenance.refSource for the
// Task, status.steps[].provenance.refSource for a StepAction), and the operator's provenance
// names it as a resolved dependency. The bundles resolver needs an OCI registry, which this
// environment does not have (no network, no registry); the hub resolver needs Tekton Hub /
// Artifact Hub on the internet.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { testEnv, uniqueName } from '../harness/index.ts';
import { localGitRepo, type GitRepo } from '../support/git-repo.ts';
import { startKeySignedOperator, stopAllOperators, type OperatorProcess } from '../support/operator-process.ts';
import { applyObjects, loadDocuments, readStatement, runTaskThroughTekton, stepEnv, tektonNamespace, type Manifest, type TektonRun } from '../support/tekton-runs.ts';
import { trainedModel, type TrainedModel } from '../support/tekton-training.ts';
import { createHash } from 'node:crypto';

const env = testEnv();
const admin = env.kubeConfig('admin');
const repo = join(import.meta.dirname, '..', '..');
const prefix = uniqueName('tekton-resolvers');

let operator: OperatorProcess;
let git: GitRepo;

const MODEL_RESULT = { name: 'model_ARTIFACT_OUTPUTS', type: 'object', properties: { uri: { type: 'string' }, digest: { type: 'string' }, isBuildArtifact: { type: 'string' } } };

/** A StepAction that trains and reports the model as a step result. */
const trainAction: Manifest = {
  apiVersion: 'tekton.dev/v1beta1',
  kind: 'StepAction',
  metadata: { name: 'train-action' },
  spec: {
    image: 'registry.example.com/slsa-ml/training:0.1.0',
    params: [{ name: 'model-uri', type: 'string' }],
    results: [MODEL_RESULT],
    env: [{ name: 'MODEL_URI', value: '$(params.model-uri)' }],
    script: '#!/bin/sh\nexec python -m training --model-uri "$MODEL_URI" --step-result "$(step.results.model_ARTIFACT_OUTPUTS.path)"\n',
  },
};

/** A StepAction kept in the run's own namespace (no resolver). */
const fetchAction: Manifest = {
  apiVersion: 'tekton.dev/v1beta1',
  kind: 'StepAction',
  metadata: { name: 'fetch-dataset' },
  spec: { image: 'docker.io/library/busybox:1.37', script: '#!/bin/sh\necho fetched\n' },
};

const gitParams = (path: string): Array<{ name: string; value: string }> => [{ name: 'url', value: git.url }, { name: 'revision', value: 'main' }, { name: 'pathInRepo', value: path }];
const modelUri = (ns: string, name: string): string => `gs://${env.bucket}/${prefix}/${ns}/${name}`;

function taskRun(ns: string, name: string, spec: Record<string, unknown>): Manifest {
  return { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name, namespace: ns }, spec };
}

async function attested(run: TektonRun): Promise<Awaited<ReturnType<typeof readStatement>>> {
  assert.equal(run.metadata.annotations?.['slsa-ml.dev/signed'], 'true', run.metadata.annotations?.['slsa-ml.dev/reason']);
  return readStatement(env, run.metadata.annotations?.['slsa-ml.dev/bundle'] ?? '');
}

const signedOrFailed = (run: TektonRun): boolean => run.metadata.annotations?.['slsa-ml.dev/signed'] !== undefined;

describe('Tasks and StepActions from Tekton\'s remote resolvers', () => {
  before(async () => {
    git = await localGitRepo({ 'tasks/train-model.yaml': stringify(loadDocuments(join(repo, 'tasks', 'train-model.yaml'))[0]), 'steps/train-action.yaml': stringify(trainAction) });
    ({ operator } = await startKeySignedOperator(env, prefix));
  });

  after(async () => {
    await operator.stop('SIGTERM');
    await stopAllOperators();
    git.remove();
  });

  it('a Task from git: Tekton records the repository, commit and path, and the provenance names them', async () => {
    const ns = await tektonNamespace(env, 'tekton-git-task');
    let model: TrainedModel | undefined;
    const run = await runTaskThroughTekton(env, {
      namespace: ns,
      taskRun: taskRun(ns, 'train', { taskRef: { resolver: 'git', params: gitParams('tasks/train-model.yaml') }, params: [{ name: 'format', value: 'pytorch_model.pth' }, { name: 'model-uri', value: modelUri(ns, 'train') }] }),
      outcomes: async (pod) => { model = await trainedModel(env, pod); return model.outcomes; },
      until: signedOrFailed,
    });
    const refSource = { uri: `git+${git.url}`, digest: { sha1: git.commit }, entryPoint: 'tasks/train-model.yaml' };
    assert.deepEqual((run.status?.provenance as { refSource?: unknown }).refSource, refSource);
    const statement = await attested(run);
    assert.equal(statement.subject[0]?.digest.sha256, model?.digest);
    const task = statement.predicate.buildDefinition.resolvedDependencies?.find((d) => d.name === 'task');
    assert.deepEqual(task, { name: 'task', uri: refSource.uri, digest: refSource.digest, annotations: { entryPoint: 'tasks/train-model.yaml' } });
    assert.deepEqual(statement.predicate.buildDefinition.externalParameters.buildConfigSource, { repository: refSource.uri, ref: `sha1:${git.commit}`, path: 'tasks/train-model.yaml' });
    // Tekton labels the run with the resolved Task's name, as for a Task in the namespace.
    assert.equal(run.metadata.labels?.['tekton.dev/task'], 'train-model');
  });

  it('a Task from another namespace through the cluster resolver: its source is the Task object by UID and digest', async () => {
    const [home, ns] = [await tektonNamespace(env, 'tekton-shared-tasks'), await tektonNamespace(env, 'tekton-cluster-task')];
    await applyObjects(admin, home, loadDocuments(join(repo, 'tasks', 'train-model.yaml')));
    const run = await runTaskThroughTekton(env, {
      namespace: ns,
      taskRun: taskRun(ns, 'train', {
        taskRef: { resolver: 'cluster', params: [{ name: 'kind', value: 'task' }, { name: 'name', value: 'train-model' }, { name: 'namespace', value: home }] },
        params: [{ name: 'format', value: 'pytorch_model.pth' }, { name: 'model-uri', value: modelUri(ns, 'train') }],
      }),
      outcomes: async (pod) => (await trainedModel(env, pod)).outcomes,
      until: signedOrFailed,
    });
    const refSource = (run.status?.provenance as { refSource?: { uri: string; digest: Record<string, string> } }).refSource;
    assert.match(refSource?.uri ?? '', new RegExp(`^/apis/tekton\\.dev/v1/namespaces/${home}/task/train-model@[0-9a-f-]{36}$`));
    assert.match(refSource?.digest.sha256 ?? '', /^[0-9a-f]{64}$/);
    const statement = await attested(run);
    const task = statement.predicate.buildDefinition.resolvedDependencies?.find((d) => d.name === 'task');
    assert.deepEqual({ uri: task?.uri, digest: task?.digest }, { uri: refSource?.uri, digest: refSource?.digest });
    // Written `cluster` as Tekton's docs write it; Chains (and so we) leave out buildConfigSource only for "Cluster".
    assert.deepEqual(statement.predicate.buildDefinition.externalParameters.buildConfigSource, { repository: refSource?.uri, ref: `sha256:${refSource?.digest.sha256 ?? ''}`, path: '' });
  });

  it('StepActions, one in the namespace and one from git: the remote one is recorded with its source, and its step result is the model', async () => {
    const ns = await tektonNamespace(env, 'tekton-stepactions');
    await applyObjects(admin, ns, [fetchAction]);
    let digest = '';
    const uri = `${modelUri(ns, 'train')}/model.pth`;
    const run = await runTaskThroughTekton(env, {
      namespace: ns,
      taskRun: taskRun(ns, 'train', {
        taskSpec: {
          results: [{ ...MODEL_RESULT, value: '$(steps.train.results.model_ARTIFACT_OUTPUTS)' }],
          steps: [
            { name: 'fetch', ref: { name: 'fetch-dataset' } },
            { name: 'train', ref: { resolver: 'git', params: gitParams('steps/train-action.yaml') }, params: [{ name: 'model-uri', value: modelUri(ns, 'train') }] },
          ],
        },
      }),
      outcomes: async (pod) => {
        const bytes = Buffer.from(`weights of ${stepEnv(pod, 'train', 'MODEL_URI') ?? ''}`);
        await env.storageClient().bucket(env.bucket).file(uri.slice(`gs://${env.bucket}/`.length)).save(bytes, { resumable: false });
        digest = createHash('sha256').update(bytes).digest('hex');
        return { fetch: {}, train: { stepResults: { model_ARTIFACT_OUTPUTS: { uri, digest: `sha256:${digest}`, isBuildArtifact: 'true' } } } };
      },
      until: signedOrFailed,
    });
    const steps = run.status?.steps as Array<{ name: string; provenance?: { refSource?: unknown }; results?: Array<{ name: string }> }>;
    const refSource = { uri: `git+${git.url}`, digest: { sha1: git.commit }, entryPoint: 'steps/train-action.yaml' };
    assert.deepEqual(steps.map((s) => [s.name, s.provenance?.refSource]), [['fetch', undefined], ['train', refSource]]);
    // Tekton turns the step result into the Task result the Task declares from it.
    assert.deepEqual(steps[1]?.results?.map((r) => r.name), ['model_ARTIFACT_OUTPUTS']);
    assert.deepEqual((run.status?.results as Array<{ name: string }>).map((r) => r.name), ['model_ARTIFACT_OUTPUTS']);
    const statement = await attested(run);
    assert.equal(statement.subject[0]?.digest.sha256, digest);
    const action = statement.predicate.buildDefinition.resolvedDependencies?.find((d) => d.name === 'stepAction/train');
    assert.deepEqual(action, { name: 'stepAction/train', uri: refSource.uri, digest: refSource.digest, annotations: { entryPoint: refSource.entryPoint } });
  });
});
