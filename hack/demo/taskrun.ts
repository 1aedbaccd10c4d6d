// What an ML engineer does with kubectl: a namespace and the ServiceAccount the runs use, the
// train-model Task from tasks/, and a TaskRun from tasks/examples/taskrun-cpu.yaml with the
// params this machine needs (the local bucket; the tiny data set when it trains for real).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { TestEnv } from '../../test/harness/index.ts';
import { kubectl } from './kubectl.ts';
import { say } from './say.ts';

const tasksDir = join(import.meta.dirname, '..', '..', 'tasks');
export const TASKRUN_EXAMPLE = join(tasksDir, 'examples', 'taskrun-cpu.yaml');

export async function prepareNamespace(env: TestEnv, namespace: string, serviceAccount: string): Promise<void> {
  await kubectl(env, ['create', 'namespace', namespace]);
  // GKE's controller manager creates `default` in every namespace; none runs here, and Tekton reads the ServiceAccount.
  for (const sa of ['default', serviceAccount]) await kubectl(env, ['create', 'serviceaccount', sa, '-n', namespace]);
  await kubectl(env, ['apply', '-n', namespace, '-f', join(tasksDir, 'train-model.yaml')]);
}

interface TaskRunManifest {
  metadata: Record<string, unknown>;
  spec: { serviceAccountName?: string; params: Array<{ name: string; value: string }> };
}

/** The example TaskRun with some params set (as `tkn task start -p` would). */
export function exampleTaskRun(params: Readonly<Record<string, string>>): { yaml: string; serviceAccount: string } {
  const run = parse(readFileSync(TASKRUN_EXAMPLE, 'utf8')) as TaskRunManifest;
  for (const [name, value] of Object.entries(params)) {
    const existing = run.spec.params.find((p) => p.name === name);
    if (existing) existing.value = value;
    else run.spec.params.push({ name, value });
  }
  return { yaml: stringify(run), serviceAccount: run.spec.serviceAccountName ?? 'default' };
}

/** kubectl create of the TaskRun; returns its generated name. */
export async function createTaskRun(env: TestEnv, namespace: string, yaml: string, changed: readonly string[]): Promise<string> {
  say(`   tasks/examples/taskrun-cpu.yaml with ${changed.join(', ')} set for this machine:`);
  const out = await kubectl(env, ['create', '-n', namespace, '-f', '-', '-o', 'name'], yaml);
  return out.trim().replace(/^taskrun\.tekton\.dev\//, '');
}
