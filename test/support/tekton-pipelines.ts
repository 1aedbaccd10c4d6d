// A training Pipeline as Tekton users write it, for the operator's pipeline tests: catalog-style
// Tasks that each do one thing (fetch the source and report CHAINS-GIT_*, train on a GPU pool and
// report the frameworks and the dataset, evaluate, upload the model and report it with
// isBuildArtifact), wired by a Pipeline that re-exports the model as its own result. The handler
// plays each Pod's steps: what a step does is decided by its pipeline task, and a test can change
// any of it (a failing attempt, a forged result, another URI).
import { createHash } from 'node:crypto';
import type { TestEnv } from '../harness/index.ts';
import { stepEnv, type Manifest, type RunningPod, type StepOutcomes } from './tekton-runs.ts';

export const SOURCE_REPO = 'https://github.com/acme/cifar10-training';
export const SOURCE_COMMIT = '5ca1ab1e00000000000000000000000000000001';
export const TORCH = 'pkg:pypi/torch@2.10.0';
export const DATASET = { uri: 'gs://datasets/cifar-10-python.tar.gz', sha256: '6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce' };

const objectResult = (names: readonly string[]) => ({ type: 'object', properties: Object.fromEntries(names.map((n) => [n, { type: 'string' }])) });

export const TASKS: readonly Manifest[] = [
  {
    apiVersion: 'tekton.dev/v1', kind: 'Task', metadata: { name: 'fetch-source' },
    spec: {
      params: [{ name: 'url', type: 'string' }, { name: 'revision', type: 'string', default: 'main' }],
      results: [{ name: 'CHAINS-GIT_URL', type: 'string' }, { name: 'CHAINS-GIT_COMMIT', type: 'string' }],
      steps: [{ name: 'clone', image: 'cgr.dev/chainguard/git:latest', env: [{ name: 'URL', value: '$(params.url)' }, { name: 'REVISION', value: '$(params.revision)' }], script: '#!/bin/sh\ngit clone "$URL" src\n' }],
    },
  },
  {
    apiVersion: 'tekton.dev/v1', kind: 'Task', metadata: { name: 'train' },
    spec: {
      params: [{ name: 'format', type: 'string', default: 'pytorch_model.pth' }],
      results: [{ name: 'FRAMEWORKS', type: 'array' }, { name: 'dataset_ARTIFACT_INPUTS', ...objectResult(['uri', 'digest']) }],
      steps: [{ name: 'train', image: 'registry.example.com/slsa-ml/training:0.1.0', env: [{ name: 'FORMAT', value: '$(params.format)' }], script: '#!/bin/sh\npython -m training train --format "$FORMAT"\n' }],
    },
  },
  {
    apiVersion: 'tekton.dev/v1', kind: 'Task', metadata: { name: 'evaluate' },
    spec: {
      results: [{ name: 'accuracy', type: 'string' }],
      steps: [{ name: 'evaluate', image: 'registry.example.com/slsa-ml/training:0.1.0', script: '#!/bin/sh\npython -m training evaluate\n' }],
    },
  },
  {
    apiVersion: 'tekton.dev/v1', kind: 'Task', metadata: { name: 'upload' },
    spec: {
      params: [{ name: 'model-uri', type: 'string' }],
      results: [{ name: 'model_ARTIFACT_OUTPUTS', ...objectResult(['uri', 'digest', 'isBuildArtifact']) }],
      steps: [{ name: 'upload', image: 'gcr.io/google.com/cloudsdktool/google-cloud-cli:slim', env: [{ name: 'MODEL_URI', value: '$(params.model-uri)' }], script: '#!/bin/sh\ngcloud storage cp model "$MODEL_URI"\n' }],
    },
  },
];

export interface PipelineShape {
  readonly name: string;
  readonly tasks: readonly unknown[];
  readonly finally?: readonly unknown[];
  /** Re-export the upload task's model as the Pipeline's own result (default true). */
  readonly reexport?: boolean;
}

/** fetch → train → evaluate → upload, the model re-exported; `format` names the model object. */
export function trainingPipeline(name = 'train-pipeline', extra: { evaluateWhen?: unknown[]; trainRetries?: number; finally?: unknown[] } = {}): Manifest {
  return pipeline({
    name,
    tasks: [
      { name: 'fetch', taskRef: { name: 'fetch-source' }, params: [{ name: 'url', value: '$(params.git-url)' }] },
      { name: 'train', runAfter: ['fetch'], taskRef: { name: 'train' }, ...(extra.trainRetries ? { retries: extra.trainRetries } : {}) },
      { name: 'evaluate', runAfter: ['train'], taskRef: { name: 'evaluate' }, ...(extra.evaluateWhen ? { when: extra.evaluateWhen } : {}) },
      { name: 'upload', runAfter: ['train'], taskRef: { name: 'upload' }, params: [{ name: 'model-uri', value: '$(params.model-base-uri)/$(context.pipelineRun.name)/pytorch_model.pth' }] },
    ],
    ...(extra.finally ? { finally: extra.finally } : {}),
  });
}

export function pipeline(shape: PipelineShape): Manifest {
  return {
    apiVersion: 'tekton.dev/v1', kind: 'Pipeline', metadata: { name: shape.name },
    spec: {
      params: [{ name: 'git-url', type: 'string', default: SOURCE_REPO }, { name: 'model-base-uri', type: 'string' }],
      ...(shape.reexport === false ? {} : { results: [{ name: 'model_ARTIFACT_OUTPUTS', type: 'object', value: '$(tasks.upload.results.model_ARTIFACT_OUTPUTS[*])' }] }),
      tasks: shape.tasks,
      ...(shape.finally ? { finally: shape.finally } : {}),
    },
  };
}

/** A PipelineRun of `pipelineName` whose train task runs on the L4 GPU pool, the others on CPU. */
export function pipelineRun(pipelineName: string, modelBase: string, extra: { annotations?: Record<string, string>; gpuTask?: string } = {}): Manifest {
  return {
    apiVersion: 'tekton.dev/v1', kind: 'PipelineRun',
    metadata: { generateName: `${pipelineName}-`, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      pipelineRef: { name: pipelineName },
      params: [{ name: 'model-base-uri', value: modelBase }],
      taskRunSpecs: [{
        pipelineTaskName: extra.gpuTask ?? 'train',
        podTemplate: { nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] },
        stepSpecs: [{ name: 'train', computeResources: { limits: { 'nvidia.com/gpu': '1' } } }],
      }],
    },
  };
}

/** Uploads `bytes` to a gs:// URI in the fake GCS. */
export async function upload(env: TestEnv, uri: string, bytes: Buffer): Promise<void> {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new Error(`not a gs:// URI: ${uri}`);
  await env.storageClient().bucket(match[1]).file(match[2]).save(bytes, { resumable: false });
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** What each task's step did, by pipeline task; `uploaded` collects the models the upload steps wrote. */
export function playSteps(env: TestEnv, uploaded: Map<string, Buffer>): (pod: RunningPod) => Promise<StepOutcomes> {
  return async (pod): Promise<StepOutcomes> => {
    switch (pod.pipelineTask) {
      case 'fetch':
        return { clone: { results: { 'CHAINS-GIT_URL': stepEnv(pod, 'clone', 'URL'), 'CHAINS-GIT_COMMIT': SOURCE_COMMIT } } };
      case 'train':
        return { train: { results: { FRAMEWORKS: [TORCH, 'pkg:pypi/numpy@2.3.4'], dataset_ARTIFACT_INPUTS: { uri: DATASET.uri, digest: `sha256:${DATASET.sha256}` } } } };
      case 'evaluate':
        return { evaluate: { results: { accuracy: '0.71' } } };
      default: {
        const uri = stepEnv(pod, 'upload', 'MODEL_URI') ?? '';
        if (!pod.steps.includes('upload') || uri === '') return {};
        const bytes = Buffer.from(`weights uploaded by ${pod.name}`);
        await upload(env, uri, bytes);
        uploaded.set(uri, bytes);
        return { upload: { results: { model_ARTIFACT_OUTPUTS: { uri, digest: `sha256:${sha256(bytes)}`, isBuildArtifact: 'true' } } } };
      }
    }
  };
}
