// What the steps of the training Tasks do, without the training, for a test to hand to the Pod
// runner as the steps' outcomes. tasks/train-model.yaml (trainedModel): the train step uploads a
// model where it would (MODEL_URI/FORMAT, as Tekton resolved them into the step's environment) and
// reports the Task's results. tasks/train-pipeline.yaml (pipelineOutcomes): fetch-source reports
// the commit, train the data set, frameworks and the model's digest, evaluate an accuracy, and
// upload uploads the same model bytes (they depend only on the PipelineRun and the format) and
// reports them as model_ARTIFACT_OUTPUTS.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { digestLocalPath } from '../../src/digest/index.ts';
import type { TestEnv } from '../harness/index.ts';
import { stepEnv, type RunningPod, type StepOutcomes } from './tekton-runs.ts';

export const TRAINED_COMMIT = 'c0ffee0000000000000000000000000000000001';
export const TORCH = 'pkg:pypi/torch@2.10.0';

export interface TrainedModel {
  readonly uri: string;
  /** sha256 hex of the file, or the directory root digest of a SavedModel. */
  readonly digest: string;
  readonly outcomes: StepOutcomes;
}

const SAVED_MODEL: Record<string, string> = {
  'saved_model.pb': 'graph', 'variables/variables.index': 'index', 'variables/variables.data-00000-of-00001': 'weights', 'fingerprint.pb': 'fp',
};

async function upload(env: TestEnv, uri: string, content: string | Buffer): Promise<void> {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new Error(`the train step got MODEL_URI ${uri}, not a gs:// URI`);
  await env.storageClient().bucket(match[1]).file(match[2]).save(content, { resumable: false });
}

/** A model in `format` whose bytes depend only on `seed`: one file, or a SavedModel's files. */
function modelFiles(format: string, seed: string): Record<string, string> {
  if (format !== 'tensorflow_saved_model') return { '': `${format} weights of ${seed}` };
  return Object.fromEntries(Object.entries(SAVED_MODEL).map(([name, content]) => [name, `${content} of ${seed}`]));
}

/** sha256 hex of the single file, or the directory root digest (as src/digest measures it). */
async function modelDigest(files: Record<string, string>): Promise<string> {
  const single = files[''];
  if (single !== undefined) return createHash('sha256').update(single).digest('hex');
  const dir = mkdtempSync(join(tmpdir(), 'saved-model-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    return (await digestLocalPath(dir)).sha256;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Uploads the model under `base`/`format` (create-only, as the step does); returns its URI and digest. */
async function uploadModel(env: TestEnv, base: string, format: string, seed: string): Promise<{ uri: string; digest: string }> {
  const files = modelFiles(format, seed);
  const single = files[''];
  if (single !== undefined) {
    await upload(env, `${base}/${format}`, single);
    return { uri: `${base}/${format}`, digest: await modelDigest(files) };
  }
  for (const [name, content] of Object.entries(files)) await upload(env, `${base}/${format}/${name}`, content);
  return { uri: `${base}/${format}/`, digest: await modelDigest(files) };
}

/** Uploads a model for `pod`'s train step and returns the outcomes of its clone and train steps. */
export async function trainedModel(env: TestEnv, pod: RunningPod, extra: Record<string, unknown> = {}): Promise<TrainedModel> {
  const base = stepEnv(pod, 'train', 'MODEL_URI') ?? '';
  const format = stepEnv(pod, 'train', 'FORMAT') ?? '';
  const seed = format === 'tensorflow_saved_model' ? pod.name : `${pod.namespace}/${pod.name}`;
  const { uri, digest } = await uploadModel(env, base, format, seed);
  const source = stepEnv(pod, 'clone', 'SOURCE_URL') ?? '';
  const results: Record<string, unknown> = {
    model_ARTIFACT_OUTPUTS: { uri, digest: `sha256:${digest}`, isBuildArtifact: 'true' },
    dataset_ARTIFACT_INPUTS: { uri: stepEnv(pod, 'train', 'DATASET_URI'), digest: `sha256:${stepEnv(pod, 'train', 'DATASET_SHA256') ?? ''}` },
    FRAMEWORKS: [TORCH, 'pkg:pypi/numpy@2.3.4'],
    ...(source ? { 'CHAINS-GIT_URL': source, 'CHAINS-GIT_COMMIT': TRAINED_COMMIT } : {}),
    ...extra,
  };
  return { uri, digest, outcomes: { clone: {}, train: { results } } };
}

/** What the fetch-source Task reported, from its clone step's environment. */
export interface FetchedSource {
  readonly url: string;
  readonly commit: string;
}

/** The model the upload task of a train-pipeline run published. */
export interface PipelineModel {
  readonly pipelineRun: string;
  readonly uri: string;
  readonly digest: string;
}

export const EVALUATED_ACCURACY = '0.7312';

async function trainedInWorkspace(pod: RunningPod, seed: string): Promise<StepOutcomes> {
  const digest = await modelDigest(modelFiles(stepEnv(pod, 'train', 'FORMAT') ?? '', seed));
  const dataset = { uri: stepEnv(pod, 'train', 'DATASET_URI'), digest: `sha256:${stepEnv(pod, 'train', 'DATASET_SHA256') ?? ''}` };
  return { train: { results: { dataset_ARTIFACT_INPUTS: dataset, FRAMEWORKS: [TORCH, 'pkg:pypi/numpy@2.3.4'], 'model-digest': `sha256:${digest}` } } };
}

async function uploaded(env: TestEnv, pod: RunningPod, seed: string, models: PipelineModel[]): Promise<StepOutcomes> {
  const model = await uploadModel(env, stepEnv(pod, 'upload', 'MODEL_URI') ?? '', stepEnv(pod, 'upload', 'FORMAT') ?? '', seed);
  const reported = stepEnv(pod, 'upload', 'MODEL_DIGEST');
  if (reported !== `sha256:${model.digest}`) throw new Error(`upload got model-digest ${String(reported)}, not the trained model's sha256:${model.digest}`);
  models.push({ pipelineRun: pod.pipelineRun ?? '', ...model });
  return { upload: { results: { model_ARTIFACT_OUTPUTS: { uri: model.uri, digest: `sha256:${model.digest}`, isBuildArtifact: 'true' } } } };
}

/**
 * The step outcomes of a tasks/train-pipeline.yaml Pod, by its pipeline task; `models` collects
 * what each upload task published. The train task's model-digest and the upload task's model are
 * the same bytes, as the upload step checks in the real Task.
 */
export async function pipelineOutcomes(env: TestEnv, pod: RunningPod, models: PipelineModel[] = []): Promise<StepOutcomes> {
  const seed = `${pod.namespace}/${pod.pipelineRun ?? ''}`;
  switch (pod.pipelineTask) {
    case 'fetch-source':
      return { clone: { results: { 'CHAINS-GIT_URL': stepEnv(pod, 'clone', 'SOURCE_URL') ?? '', 'CHAINS-GIT_COMMIT': TRAINED_COMMIT } } };
    case 'train':
      return trainedInWorkspace(pod, seed);
    case 'evaluate':
      return { evaluate: { results: { accuracy: EVALUATED_ACCURACY, 'test-images': '10000' } } };
    case 'upload':
      return uploaded(env, pod, seed, models);
    default:
      throw new Error(`pipeline task ${String(pod.pipelineTask)} of Pod ${pod.name} is not one of tasks/train-pipeline.yaml`);
  }
}
