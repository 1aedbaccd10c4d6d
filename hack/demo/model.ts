// Produces the model the demo attests: a real one-step PyTorch model when the training venv is
// built (it holds torch and TensorFlow, several GB, so the demo never builds it), otherwise a
// small synthetic weights file. Either way the result is what the train step would report.
import { createHash } from 'node:crypto';
import type { TestEnv } from '../../test/harness/index.ts';
import { modelOutput, uploadModel, type RunResult } from '../../test/support/training-run.ts';
import { detail, say } from './say.ts';
import { trainingPython, trainTinyModel } from './training.ts';

export interface DemoModel {
  readonly uri: string;
  readonly results: RunResult[];
  readonly trained: boolean;
}

function syntheticWeights(): Buffer {
  // Deterministic bytes that stand in for a state dict (not loadable by torch).
  const blocks: Buffer[] = [];
  for (let i = 0; i < 256; i++) blocks.push(createHash('sha256').update(`slsa-ml demo weights ${i}`).digest());
  return Buffer.concat([Buffer.from('SLSA-ML DEMO SYNTHETIC WEIGHTS\n'), ...blocks]);
}

export async function produceModel(env: TestEnv, prefix: string, workDir: string, synthetic: boolean): Promise<DemoModel> {
  const python = synthetic ? undefined : await trainingPython();
  if (python) {
    say(`   training venv found (${python}); training one step of the project's CNN on a tiny synthetic CIFAR10 archive`);
    const trained = await trainTinyModel({ python, workDir, modelBase: `gs://${env.bucket}/${prefix}`, gcsEndpoint: env.gcsEndpoint });
    for (const line of trained.log.trim().split('\n')) say(`   | ${line}`);
    return { uri: trained.uri, results: trained.results, trained: true };
  }
  if (synthetic) say('   --synthetic: not training');
  else say('   no training venv (`bash hack/install-tools.sh training` builds it: torch + TensorFlow, several GB);');
  say('   uploading a small synthetic weights file instead');
  const data = syntheticWeights();
  const digest = createHash('sha256').update(data).digest('hex');
  const uri = await uploadModel(env, `${prefix}/pytorch_model.pth`, data);
  detail('sha256', digest);
  return { uri, results: [modelOutput(uri, digest)], trained: false };
}
