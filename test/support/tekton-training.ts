// What the train step of tasks/train-model.yaml does, without the training: it uploads a model
// where the step would (MODEL_URI/FORMAT, as Tekton resolved them into the step's environment)
// and reports the Task's results, for a test to hand to the Pod runner as the step's outcome.
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

/** Uploads a model for `pod`'s train step and returns the outcomes of its clone and train steps. */
export async function trainedModel(env: TestEnv, pod: RunningPod, extra: Record<string, unknown> = {}): Promise<TrainedModel> {
  const base = stepEnv(pod, 'train', 'MODEL_URI') ?? '';
  const format = stepEnv(pod, 'train', 'FORMAT') ?? '';
  let uri: string;
  let digest: string;
  if (format === 'tensorflow_saved_model') {
    const dir = mkdtempSync(join(tmpdir(), 'saved-model-'));
    try {
      for (const [name, content] of Object.entries(SAVED_MODEL)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), `${content} of ${pod.name}`);
        await upload(env, `${base}/${format}/${name}`, `${content} of ${pod.name}`);
      }
      uri = `${base}/${format}/`;
      digest = (await digestLocalPath(dir)).sha256;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    const bytes = Buffer.from(`${format} weights of ${pod.namespace}/${pod.name}`);
    uri = `${base}/${format}`;
    await upload(env, uri, bytes);
    digest = createHash('sha256').update(bytes).digest('hex');
  }
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
