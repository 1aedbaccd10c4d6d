// Details of the statement a user or verifier relies on: subjects, images, accelerators, errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { buildStatement, modelSubject, ProvenanceError } from '../../src/provenance/index.ts';
import type { BuildStatementInput, Node, Pod, ResourceDescriptor } from '../../src/provenance/index.ts';
import { loadCase } from '../fixtures/provenance/load.ts';

// Pods and Nodes read with @kubernetes/client-node can be passed as they are (checked by tsc).
export const fromClientNode: Array<(p: V1Pod, n: V1Node) => [Pod, Node]> = [(p, n) => [p, n]];

const HEX = 'e'.repeat(64);

function deps(input: BuildStatementInput): ResourceDescriptor[] {
  return buildStatement(input).predicate.buildDefinition.resolvedDependencies ?? [];
}

function withSteps(input: BuildStatementInput, steps: unknown[]): BuildStatementInput {
  const status = { ...input.taskRun.status, steps };
  return { ...input, taskRun: { ...input.taskRun, status } };
}

describe('when the operator names the models it measured', () => {
  it('names a file model by its object path and keeps the full URI', () => {
    const subject = modelSubject('gs://ml-models/m/v3/pytorch_model.pth', { kind: 'file', sha256: HEX, fileCount: 1 });
    assert.deepEqual(subject, { name: 'm/v3/pytorch_model.pth', uri: 'gs://ml-models/m/v3/pytorch_model.pth', digest: { sha256: HEX } });
  });

  it('marks a directory model, its hash method and file count', () => {
    const subject = modelSubject('gs://ml-models/m/v3/saved_model/', { kind: 'directory', sha256: HEX, fileCount: 7 });
    assert.deepEqual(subject, {
      name: 'm/v3/saved_model',
      uri: 'gs://ml-models/m/v3/saved_model/',
      digest: { sha256: HEX },
      annotations: { 'slsa-ml.dev/kind': 'directory', 'slsa-ml.dev/hashMethod': 'model-signing-v1.0-sha256', 'slsa-ml.dev/fileCount': 7 },
    });
  });

  it('names a local demo model by its absolute path', () => {
    assert.equal(modelSubject('file:///var/demo/m/model.pth', { kind: 'file', sha256: HEX, fileCount: 1 }).name, '/var/demo/m/model.pth');
  });

  it('refuses a statement without subjects', () => {
    assert.throws(() => buildStatement({ ...loadCase('cpu-pytorch'), subjects: [] }), { name: 'ProvenanceError', code: 'NO_SUBJECTS' });
  });

  it('refuses a subject whose digest is not a sha256 hex string', () => {
    const subjects = [{ name: 'm.pt', digest: { sha256: 'sha256:abc' } }];
    assert.throws(() => buildStatement({ ...loadCase('cpu-pytorch'), subjects }), { code: 'BAD_SUBJECT' });
  });

  it('refuses the same subject twice', () => {
    const [subject] = loadCase('cpu-pytorch').subjects;
    assert.ok(subject);
    assert.throws(() => buildStatement({ ...loadCase('cpu-pytorch'), subjects: [subject, { ...subject }] }), { code: 'BAD_SUBJECT' });
  });

  it('lists a reported output that did not become a subject as a byproduct, not nowhere', () => {
    const input = loadCase('cpu-pytorch');
    input.subjects = [{ name: 'other.pt', uri: 'gs://ml-models-prod/other.pt', digest: { sha256: HEX } }];
    const byproducts = buildStatement(input).predicate.runDetails.byproducts ?? [];
    const model = byproducts.find((b) => b.uri === 'gs://ml-models-prod/cifar10/v3/pytorch_model.pth');
    assert.deepEqual(model?.annotations, { tenantReported: true });
    assert.equal(model?.name, 'taskRunResults/train-cifar10-cpu-x7k2p/model_ARTIFACT_OUTPUTS');
  });
});

describe('when step and sidecar images are recorded', () => {
  const image = (imageID: string): unknown[] => [{ name: 'train', imageID }];

  it('reads containerd image IDs', () => {
    const [dep] = deps(withSteps(loadCase('savedmodel-directory'), image(`gcr.io/x/y@sha256:${HEX}`)));
    assert.deepEqual(dep, { name: 'step/train', uri: 'oci://gcr.io/x/y', digest: { sha256: HEX } });
  });

  it('reads docker-pullable image IDs', () => {
    const [dep] = deps(withSteps(loadCase('savedmodel-directory'), image(`docker-pullable://gcr.io/x/y@sha256:${HEX}`)));
    assert.equal(dep?.uri, 'oci://gcr.io/x/y');
  });

  it('keeps the digest of an image that has no repository digest', () => {
    const [dep] = deps(withSteps(loadCase('savedmodel-directory'), image(`sha256:${HEX}`)));
    assert.deepEqual(dep, { name: 'step/train', digest: { sha256: HEX } });
  });

  it('refuses an image ID it cannot read rather than drop the image', () => {
    assert.throws(() => deps(withSteps(loadCase('savedmodel-directory'), image('gcr.io/x/y:latest'))), { code: 'BAD_IMAGE_ID' });
  });

  it('leaves out a step that never started (it has no image ID)', () => {
    const steps = [{ name: 'skipped' }, { name: 'train', imageID: `gcr.io/x/y@sha256:${HEX}` }];
    assert.deepEqual(deps(withSteps(loadCase('savedmodel-directory'), steps)).filter((d) => d.name?.startsWith('step/')).map((d) => d.name), ['step/train']);
  });
});

describe('when the Pod requested accelerators', () => {
  function accelerator(pod: Pod): unknown {
    const input = loadCase('gpu-t4');
    delete input.node;
    return buildStatement({ ...input, pod }).predicate.buildDefinition.internalParameters?.accelerator;
  }

  it('adds up the containers and takes the larger of that and any init container', () => {
    const gpu = (n: string): { resources: { limits: Record<string, string> } } => ({ resources: { limits: { 'nvidia.com/gpu': n } } });
    assert.deepEqual(accelerator({ spec: { containers: [gpu('1'), gpu('2')], initContainers: [gpu('1')] } }), { kind: 'gpu', count: 3 });
    assert.deepEqual(accelerator({ spec: { containers: [gpu('1')], initContainers: [gpu('4')] } }), { kind: 'gpu', count: 4 });
  });

  it('reads whole-number quantities written in milli-units', () => {
    assert.deepEqual(accelerator({ spec: { containers: [{ resources: { requests: { 'nvidia.com/gpu': '2000m' } } }] } }), { kind: 'gpu', count: 2 });
  });

  it('refuses a fractional accelerator quantity', () => {
    assert.throws(() => accelerator({ spec: { containers: [{ name: 'step-train', resources: { requests: { 'nvidia.com/gpu': '500m' } } }] } }), { code: 'BAD_QUANTITY' });
  });

  it('records no accelerator for a CPU-only Pod on a CPU node', () => {
    const internal = buildStatement(loadCase('cpu-pytorch')).predicate.buildDefinition.internalParameters;
    assert.equal(internal?.accelerator, undefined);
  });
});

describe('when the TaskRun is incomplete or odd', () => {
  it('needs the TaskRun UID, which identifies the invocation', () => {
    const input = loadCase('gpu-t4');
    delete input.taskRun.metadata?.uid;
    assert.throws(() => buildStatement(input), (err: unknown) => err instanceof ProvenanceError && err.code === 'BAD_TASKRUN');
  });

  it('accepts timestamps deserialised into Dates by the Kubernetes client', () => {
    const input = loadCase('gpu-t4');
    if (input.taskRun.status) input.taskRun.status.startTime = new Date('2025-11-21T07:12:30Z');
    assert.equal(buildStatement(input).predicate.runDetails.metadata?.startedOn, '2025-11-21T07:12:30.000Z');
  });

  it('writes times given with a UTC offset in UTC with a Z, as in-toto wants (and Chains converts), keeping the fraction', () => {
    const input = loadCase('gpu-t4');
    if (input.taskRun.status) {
      input.taskRun.status.startTime = '2025-11-21T09:12:30+02:00';
      input.taskRun.status.completionTime = '2025-11-20T23:59:59.25-05:30';
    }
    const metadata = buildStatement(input).predicate.runDetails.metadata;
    assert.equal(metadata?.startedOn, '2025-11-21T07:12:30Z');
    assert.equal(metadata?.finishedOn, '2025-11-21T05:29:59.25Z');
  });

  it('keeps a UTC time as written', () => {
    const input = loadCase('gpu-t4');
    if (input.taskRun.status) input.taskRun.status.startTime = '2025-11-21T07:12:30Z';
    assert.equal(buildStatement(input).predicate.runDetails.metadata?.startedOn, '2025-11-21T07:12:30Z');
  });

  it('refuses a start time that is not RFC 3339', () => {
    const input = loadCase('gpu-t4');
    if (input.taskRun.status) input.taskRun.status.startTime = 'yesterday';
    assert.throws(() => buildStatement(input), { code: 'BAD_TIME' });
  });

  it('refuses a refSource without a digest', () => {
    const input = loadCase('tpu-v5e');
    if (input.taskRun.status) input.taskRun.status.provenance = { refSource: { uri: 'git+https://github.com/x/y' } };
    assert.throws(() => buildStatement(input), { code: 'BAD_REF_SOURCE' });
  });

  it('records no feature flags when Tekton did not report them', () => {
    const internal = buildStatement(loadCase('gpu-t4')).predicate.buildDefinition.internalParameters ?? {};
    assert.equal(internal['tekton-pipelines-feature-flags'], undefined);
  });
});

describe('when byproducts are named (Tekton Chains v2alpha4)', () => {
  it('names them after the TaskRun, never after a tekton.dev/pipelineTask label a tenant can set on a standalone TaskRun', () => {
    const input = loadCase('cpu-pytorch');
    input.taskRun.metadata = { ...input.taskRun.metadata, labels: { 'tekton.dev/pipelineTask': 'release-build' } };
    const names = (buildStatement(input).predicate.runDetails.byproducts ?? []).map((b) => b.name);
    assert.deepEqual(names, ['taskRunResults/train-cifar10-cpu-x7k2p/accuracy', 'taskRunResults/train-cifar10-cpu-x7k2p/metrics']);
  });

  it('records the run\'s other models with the digest the operator measured, not the one reported (or none)', () => {
    const input = loadCase('sibling-models');
    const tokenizer = buildStatement(input).predicate.runDetails.byproducts?.find((b) => b.uri === 'gs://ml-models-prod/chat/v1/tokenizer/');
    assert.deepEqual(tokenizer?.digest, { sha256: 'b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c' });
    assert.equal(tokenizer?.annotations?.['slsa-ml.dev/measured'], true);
    assert.equal(buildStatement({ ...input, siblings: [] }).predicate.runDetails.byproducts?.find((b) => b.uri === tokenizer?.uri)?.digest, undefined);
  });
});

describe('when Tekton resolved remote definitions', () => {
  it('records every remote StepAction (status.steps[].provenance.refSource) as stepAction/<step>', () => {
    const names = deps(loadCase('chains-stepactions')).map((d) => d.name);
    assert.deepEqual(names.slice(0, 3), ['task', 'stepAction/fetch-base-model', 'stepAction/upload-report']);
  });

  it('refuses a StepAction refSource without a digest, as for the Task', () => {
    const input = loadCase('chains-stepactions');
    const steps = (input.taskRun.status?.steps ?? []) as Array<Record<string, unknown>>;
    const broken = withSteps(input, steps.map((s, i) => (i === 0 ? { ...s, provenance: { refSource: { uri: 'git+https://x/y.git', digest: {} } } } : s)));
    assert.throws(() => buildStatement(broken), { code: 'BAD_REF_SOURCE', message: /status\.steps\[0\]\.provenance\.refSource \(fetch-base-model\)/ });
  });

  it('writes externalParameters.buildConfigSource for a resolver taskRef, and none for a cluster Task', () => {
    const external = buildStatement(loadCase('chains-stepactions')).predicate.buildDefinition.externalParameters;
    assert.deepEqual(external.buildConfigSource, { repository: 'us-docker.pkg.dev/example-ml/tasks/train-lora', ref: 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef', path: 'train-lora' });
    assert.equal(buildStatement(loadCase('step-results')).predicate.buildDefinition.externalParameters.buildConfigSource, undefined);
  });
});
