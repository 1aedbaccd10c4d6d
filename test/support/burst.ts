// Many training runs finishing at once, each with its own model, for crash/HA/burst tests.
import type { KubeConfig } from '@kubernetes/client-node';
import type { TestEnv } from '../harness/index.ts';
import { createTaskRun, succeededStatus, trainingTaskRun, updateTaskRunStatus } from './tekton.ts';
import { modelOutput, sha256, uploadModel } from './training-run.ts';

export interface BurstRun {
  readonly name: string;
  readonly modelUri: string;
}

/** Uploads the models and creates the TaskRuns (running); `finish` then completes them all. */
export interface BurstSpec {
  readonly namespace: string;
  /** Models go under gs://<bucket>/<prefix>/<namespace>/<name>/ */
  readonly prefix: string;
  readonly count: number;
  readonly namePrefix?: string;
}

export async function prepareBurst(env: TestEnv, kc: KubeConfig, spec: BurstSpec): Promise<{ runs: BurstRun[]; finish: () => Promise<void> }> {
  const { namespace, prefix, count, namePrefix = 'train' } = spec;
  const runs: BurstRun[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${namePrefix}-${String(i).padStart(3, '0')}`;
    const model = Buffer.from(`model ${namespace} ${i}`);
    const modelUri = await uploadModel(env, `${prefix}/${namespace}/${name}/pytorch_model.pth`, model);
    await createTaskRun(kc, trainingTaskRun(namespace, name));
    runs.push({ name, modelUri });
  }
  const finish = async (): Promise<void> => {
    await Promise.all(runs.map(async (run, i) => {
      const model = Buffer.from(`model ${namespace} ${i}`);
      await updateTaskRunStatus(kc, namespace, run.name, succeededStatus(`${run.name}-pod`, [modelOutput(run.modelUri, sha256(model))]));
    }));
  };
  return { runs, finish };
}
