// The container runtime of the demo's training Pod. With the training venv built (torch and
// TensorFlow, several GB, so the demo never builds it), the Pod's own steps run on this machine:
// the train step trains one step of the project's CNN with real PyTorch and uploads the model.
// Without it (or with --synthetic), the train step's stand-in uploads a small synthetic weights
// file where the step would and reports the results the Task declares. Either way the results
// travel back through the Pod, and Tekton reads them from there.
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

const envOf = (pod: RunningPod, step: string, name: string): string =>
  pod.pod.spec?.containers.find((c) => c.name === `step-${step}`)?.env?.find((e) => e.name === name)?.value ?? '';

async function syntheticTrain(env: TestEnv, pod: RunningPod): Promise<StepOutcomes> {
  const uri = `${envOf(pod, 'train', 'MODEL_URI')}/${envOf(pod, 'train', 'FORMAT')}`;
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new Error(`the train step got model-uri ${uri}, not gs://`);
  const data = syntheticWeights();
  await env.storageClient().bucket(match[1]).file(match[2]).save(data, { resumable: false });
  const digest = createHash('sha256').update(data).digest('hex');
  detail('uploaded', `${uri} (sha256 ${digest})`);
  return {
    clone: {},
    train: {
      results: {
        model_ARTIFACT_OUTPUTS: { uri, digest: `sha256:${digest}`, isBuildArtifact: 'true' },
        dataset_ARTIFACT_INPUTS: { uri: envOf(pod, 'train', 'DATASET_URI'), digest: `sha256:${envOf(pod, 'train', 'DATASET_SHA256')}` },
        FRAMEWORKS: ['pkg:pypi/torch@2.10.0'],
      },
    },
  };
}

export interface DemoRuntime {
  readonly handler: PodHandler;
  stop(): void;
}

export function demoRuntime(env: TestEnv, python: string | undefined, workDir: string): DemoRuntime {
  const local = new LocalSteps({
    kc: env.kubeConfig('admin'), gcsEndpoint: env.gcsEndpoint, workDir, trainingPython: python,
    log: (step, line) => say(`   | ${step}: ${line}`),
  });
  const describe = (pod: RunningPod): void => detail('Pod', `${pod.name} on ${pod.pod.spec?.nodeName ?? '?'}, steps ${pod.steps.join(', ')}`);
  return {
    handler: async (pod) => {
      describe(pod);
      if (python) {
        say('   running its steps on this machine (the scripts Tekton put in the Pod, with the training venv as the image)');
        return local.run(pod);
      }
      say('   uploading a small synthetic weights file where the train step would, instead of training');
      return syntheticTrain(env, pod);
    },
    stop: () => local.stop(),
  };
}
