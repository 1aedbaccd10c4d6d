// What an ML engineer does with kubectl: a namespace and the ServiceAccount the runs use, the
// four Tasks and the train-pipeline Pipeline from tasks/, and a PipelineRun from
// tasks/examples/pipelinerun-cpu.yaml with the params this machine needs (this checkout as the
// source, the local bucket; the tiny data set when it trains for real) and an emptyDir for its
// workspace (nothing here provisions the volume its volumeClaimTemplate asks for).
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import type { TestEnv } from '../../test/harness/index.ts';
import { kubectl } from './kubectl.ts';
import { say } from './say.ts';

const repo = join(import.meta.dirname, '..', '..');
const tasksDir = join(repo, 'tasks');
export const PIPELINE_FILES = ['fetch-source.yaml', 'train-cifar10.yaml', 'evaluate-model.yaml', 'upload-model.yaml', 'train-pipeline.yaml'];
export const PIPELINERUN_EXAMPLE = join(tasksDir, 'examples', 'pipelinerun-cpu.yaml');

export async function prepareNamespace(env: TestEnv, namespace: string, serviceAccount: string): Promise<void> {
  await kubectl(env, ['create', 'namespace', namespace]);
  // GKE's controller manager creates `default` in every namespace; none runs here, and Tekton reads the ServiceAccount.
  for (const sa of ['default', serviceAccount]) await kubectl(env, ['create', 'serviceaccount', sa, '-n', namespace]);
  await kubectl(env, ['apply', '-n', namespace, ...PIPELINE_FILES.flatMap((f) => ['-f', join(tasksDir, f)])]);
}

interface PipelineRunManifest {
  metadata: Record<string, unknown>;
  spec: {
    params: Array<{ name: string; value: string }>;
    workspaces: Array<{ name: string; volumeClaimTemplate?: unknown; emptyDir?: unknown }>;
    taskRunTemplate?: { serviceAccountName?: string };
  };
}

/** The example PipelineRun with some params set (as `tkn pipeline start -p` would) and its workspaces as emptyDirs. */
export function examplePipelineRun(params: Readonly<Record<string, string>>): { yaml: string; serviceAccount: string; workspaces: string[] } {
  const run = parse(readFileSync(PIPELINERUN_EXAMPLE, 'utf8')) as PipelineRunManifest;
  for (const [name, value] of Object.entries(params)) {
    const existing = run.spec.params.find((p) => p.name === name);
    if (existing) existing.value = value;
    else run.spec.params.push({ name, value });
  }
  run.spec.workspaces = run.spec.workspaces.map((w) => ({ name: w.name, emptyDir: {} }));
  return { yaml: stringify(run), serviceAccount: run.spec.taskRunTemplate?.serviceAccountName ?? 'default', workspaces: run.spec.workspaces.map((w) => w.name) };
}

/** kubectl create of the PipelineRun; returns its generated name. */
export async function createPipelineRun(env: TestEnv, namespace: string, run: { yaml: string; workspaces: readonly string[] }, changed: readonly string[]): Promise<string> {
  say(`   ${relative(repo, PIPELINERUN_EXAMPLE)} with ${changed.join(', ')} set for this machine,`);
  say(`   and workspace ${run.workspaces.join(', ')} an emptyDir instead of a volumeClaimTemplate (nothing here provisions volumes):`);
  const out = await kubectl(env, ['create', '-n', namespace, '-f', '-', '-o', 'name'], run.yaml);
  return out.trim().replace(/^pipelinerun\.tekton\.dev\//, '');
}
