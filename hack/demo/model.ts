// The container runtime of the demo's pipeline Pods. Each Pod's steps run on this machine (the
// scripts Tekton put in the Pod): fetch-source's clone step runs git on this checkout, and with
// the training venv built (torch and TensorFlow, several GB, so --synthetic never builds it) the
// train, evaluate and upload steps run the fetched tasks/training with it as their image: real
// PyTorch training, evaluation and upload to the local bucket. Without it (or with --synthetic),
// a stand-in for each of those tasks reports the results its Task declares, and the upload
// stand-in uploads a small synthetic weights file where the step would. Either way the results
// travel back through the Pods, and Tekton reads them from there.
import { createHash } from 'node:crypto';
import { LocalSteps } from '../env/local-steps.ts';
import type { StepOutcomes } from '../env/pod-outcome.ts';
import type { PodHandler, RunningPod } from '../env/pod-runner.ts';
import type { TestEnv } from '../../test/harness/index.ts';
import { detail, say } from './say.ts';

function syntheticWeights(): Buffer {
  // Deterministic bytes that stand in for a state dict (not loadable by torch).
  const blocks: Buffer[] = [];
  for (let i = 0; i < 256; i++) blocks.push(createHash('sha256').update(`slsa-ml demo weights ${i}`).digest());
  return Buffer.concat([Buffer.from('SLSA-ML DEMO SYNTHETIC WEIGHTS\n'), ...blocks]);
}

const weightsDigest = (): string => `sha256:${createHash('sha256').update(syntheticWeights()).digest('hex')}`;

const envOf = (pod: RunningPod, step: string, name: string): string =>
  pod.pod.spec?.containers.find((c) => c.name === `step-${step}`)?.env?.find((e) => e.name === name)?.value ?? '';

async function syntheticUpload(env: TestEnv, pod: RunningPod): Promise<StepOutcomes> {
  const uri = `${envOf(pod, 'upload', 'MODEL_URI')}/${envOf(pod, 'upload', 'FORMAT')}`;
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new Error(`the upload step got model-uri ${uri}, not gs://`);
  const reported = envOf(pod, 'upload', 'MODEL_DIGEST');
  if (reported !== weightsDigest()) throw new Error(`the upload step got model-digest ${reported}, not the stand-in model's ${weightsDigest()}`);
  await env.storageClient().bucket(match[1]).file(match[2]).save(syntheticWeights(), { resumable: false });
  detail('uploaded', `${uri} (${weightsDigest()})`);
  return { upload: { results: { model_ARTIFACT_OUTPUTS: { uri, digest: weightsDigest(), isBuildArtifact: 'true' } } } };
}

/** What each training task's stand-in does and reports (fetch-source needs no stand-in: it only runs git). */
async function standIn(env: TestEnv, pod: RunningPod): Promise<StepOutcomes> {
  switch (pod.pipelineTask) {
    case 'train':
      say('   stand-in: not training; reports the data set, the frameworks and the digest of a small synthetic weights file');
      return {
        train: {
          results: {
            dataset_ARTIFACT_INPUTS: { uri: envOf(pod, 'train', 'DATASET_URI'), digest: `sha256:${envOf(pod, 'train', 'DATASET_SHA256')}` },
            FRAMEWORKS: ['pkg:pypi/torch@2.10.0'],
            'model-digest': weightsDigest(),
          },
        },
      };
    case 'evaluate':
      say('   stand-in: not evaluating; reports accuracy 0 on 0 test images');
      return { evaluate: { results: { accuracy: '0.0000', 'test-images': '0' } } };
    case 'upload':
      say('   stand-in: uploads the synthetic weights file where the upload step would');
      return syntheticUpload(env, pod);
    default:
      throw new Error(`Pod ${pod.name} is not a task of tasks/train-pipeline.yaml (pipeline task ${String(pod.pipelineTask)})`);
  }
}

export interface DemoRuntime {
  readonly handler: PodHandler;
  /** The Pods it ran, in order: name, pipeline task and node. */
  readonly pods: ReadonlyArray<{ name: string; task: string; node: string }>;
  stop(): void;
}

export function demoRuntime(env: TestEnv, python: string | undefined, workDir: string): DemoRuntime {
  const local = new LocalSteps({
    kc: env.kubeConfig('admin'), gcsEndpoint: env.gcsEndpoint, workDir, trainingPython: python,
    log: (step, line) => say(`   | ${step}: ${line}`),
  });
  const pods: Array<{ name: string; task: string; node: string }> = [];
  return {
    pods,
    handler: async (pod) => {
      const node = pod.pod.spec?.nodeName ?? '?';
      pods.push({ name: pod.name, task: pod.pipelineTask ?? '', node });
      say(`\n   task ${pod.pipelineTask ?? '?'}:`);
      detail('Pod', `${pod.name} on ${node}, steps ${pod.steps.join(', ')}`);
      if (python || pod.pipelineTask === 'fetch-source') return local.run(pod);
      return standIn(env, pod);
    },
    stop: () => local.stop(),
  };
}
