// Runs the `run:` steps of this repository's workflows on this machine, as the runner would:
// `${{ … }}` expressions resolved from the contexts, the step's env and working-directory,
// `bash --noprofile --norc -eo pipefail`, and a fresh $GITHUB_OUTPUT file per step. Only plain
// context paths (`inputs.format`, `steps.sign.outputs.model`) are supported: anything else
// fails loudly, so a workflow change the tests cannot follow is noticed.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

import { parseOutputs } from './github-actions-runner.ts';

export interface WorkflowStep {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly env?: Readonly<Record<string, string | number | boolean>>;
  readonly with?: Readonly<Record<string, string | number | boolean>>;
  readonly 'working-directory'?: string;
}

export interface WorkflowJob {
  readonly needs?: string | string[];
  readonly uses?: string;
  readonly with?: Readonly<Record<string, string | number | boolean>>;
  readonly outputs?: Readonly<Record<string, string>>;
  readonly steps?: WorkflowStep[];
}

export interface Workflow {
  readonly on: Record<string, { inputs?: Record<string, { default?: string | number | boolean; required?: boolean }> } | null>;
  readonly jobs: Record<string, WorkflowJob>;
}

/** Nested objects of strings: `{ inputs: {…}, runner: {…}, steps: { sign: { outputs: {…} } } }`. */
export type Contexts = { readonly [name: string]: string | Contexts };

export function evaluate(text: string | number | boolean, contexts: Contexts): string {
  return `${text}`.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    if (!/^[A-Za-z_][\w-]*(\.[\w-]+)+$/.test(expr)) throw new Error(`unsupported expression \${{ ${expr} }}`);
    let value: string | Contexts | undefined = contexts;
    for (const key of expr.split('.')) value = typeof value === 'object' ? value[key] : undefined;
    if (typeof value !== 'string') throw new Error(`\${{ ${expr} }} has no value in this test's contexts`);
    return value;
  });
}

export function evaluateAll(values: Readonly<Record<string, string | number | boolean>> | undefined, contexts: Contexts): Record<string, string> {
  return Object.fromEntries(Object.entries(values ?? {}).map(([k, v]) => [k, evaluate(v, contexts)]));
}

export interface StepRun {
  readonly code: number;
  readonly output: string;
  readonly outputs: Record<string, string>;
}

/** One `run:` step; `env` is the job's environment (PATH, GITHUB_*, RUNNER_*). */
export async function runStep(step: WorkflowStep, contexts: Contexts, workspace: string, env: Readonly<Record<string, string>>): Promise<StepRun> {
  if (step.run === undefined) throw new Error(`step ${step.name ?? step.id ?? '?'} has no run:`);
  const scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-step-'));
  try {
    const script = join(scratch, 'step.sh');
    const outputFile = join(scratch, 'output');
    await writeFile(script, evaluate(step.run, contexts));
    await writeFile(outputFile, '');
    const dir = step['working-directory'] === undefined ? workspace : evaluate(step['working-directory'], contexts);
    const cwd = isAbsolute(dir) ? dir : join(workspace, dir);
    const stepEnv = { ...env, ...evaluateAll(step.env, contexts), GITHUB_OUTPUT: outputFile };
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd, env: stepEnv, timeout: 300_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr });
      });
    });
    return { code, output, outputs: parseOutputs(await readFile(outputFile, 'utf8')) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
