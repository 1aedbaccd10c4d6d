// The GitHub Actions files as GitHub will read them: actionlint finds nothing in the workflows, and
// every reference GitHub resolves only at run time (inputs, secrets, step and job outputs, the
// reusable workflow's and the action's parameters) names something that is declared — mistakes
// that otherwise surface only when someone runs the workflow on GitHub.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { INPUTS, OUTPUTS } from '../../src/action/inputs.ts';
import {
  checkWorkflows, describeFinding, parseAction, parseWorkflow, references,
  type Finding, type Rule, type Source,
} from '../support/workflow-refs.ts';

const repo = join(import.meta.dirname, '..', '..');
const workflowFiles = readdirSync(join(repo, '.github', 'workflows')).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => `.github/workflows/${f}`);
const read = (file: string): Source => ({ file, text: readFileSync(join(repo, file), 'utf8') });

const action = parseAction(read('action.yml'));
const sources = workflowFiles.map(read);
const findingsOf = (list: readonly Source[]): Finding[] => checkWorkflows(list.map(parseWorkflow), action);
const findings = findingsOf(sources);
const reported = (...rules: Rule[]): string[] => findings.filter((f) => rules.includes(f.rule)).map(describeFinding);

// actionlint v1.7.12 types the job context without the workflow_* properties GitHub added in 2026
// (docs.github.com, contexts#job-context; rhysd/actionlint#647, #705, fixes not released), and the
// reusable workflow checks itself out with job.workflow_repository / job.workflow_sha. Ignore that
// one message for exactly those four property names on the job context's type; a misspelt one
// (job.workflow_shaa) is still reported, as a test below shows.
const JOB_WORKFLOW_CONTEXT = '^property "workflow_(repository|sha|ref|file_path)" is not defined in object type \\{check_run_id: number; container: ';

interface LintError { readonly filepath: string; readonly line: number; readonly column: number; readonly message: string; readonly kind: string }

/** actionlint's findings as `file:line:col: message [kind]`; no shellcheck or pyflakes, even if installed. */
function actionlint(args: readonly string[], stdin = ''): Promise<string[]> {
  const bin = requireTool(toolPaths().actionlint, 'actionlint');
  const argv = ['-no-color', '-shellcheck=', '-pyflakes=', '-format', '{{json .}}', '-ignore', JOB_WORKFLOW_CONTEXT, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(bin, argv, { cwd: repo }, (error, stdout, stderr) => {
      // Exit status 1 means "found problems"; anything else non-zero is actionlint failing to run.
      if (error && error.code !== 1) return reject(new Error(`actionlint: ${error.message}\n${stderr}`));
      try {
        const errors = JSON.parse(stdout) as LintError[];
        resolve(errors.map((e) => `${e.filepath}:${e.line}:${e.column}: ${e.message} [${e.kind}]`));
      } catch (cause) {
        reject(new Error(`actionlint printed no JSON: ${stdout}\n${stderr}`, { cause }));
      }
    });
    child.stdin?.end(stdin);
  });
}

describe('the GitHub Actions workflows and action.yml', () => {
  it('are the reusable provenance workflow and the CIFAR10 example', () => {
    assert.deepEqual(workflowFiles, ['.github/workflows/provenance.yml', '.github/workflows/train-cifar10.yml']);
  });

  it('actionlint reports nothing in .github/workflows', async () => {
    assert.deepEqual(await actionlint(workflowFiles), []);
  });

  it("actionlint's one ignored message covers only the job context's documented workflow_* properties", async () => {
    const workflow = [
      'on: push', 'jobs:', '  a:', '    runs-on: ubuntu-latest', '    steps:',
      '      - run: echo "${{ job.workflow_sha }}"', '      - run: echo "${{ job.workflow_shaa }}"', '',
    ].join('\n');
    const errors = await actionlint(['-stdin-filename', 'typo.yml', '-'], workflow);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /^typo\.yml:7:\d+: property "workflow_shaa" is not defined in object type/);
  });

  it('the reference checker sees the references the workflows make', () => {
    const seen = (file: string): string[] => references(parseWorkflow(read(file))).map((r) => r.text);
    const provenance = seen('.github/workflows/provenance.yml');
    for (const ref of ['inputs.subjects', 'secrets.gcp-credentials-json', 'steps.sign.outputs.model', 'steps.artifact.outputs.name', 'jobs.provenance.outputs.model']) {
      assert.ok(provenance.includes(ref), `provenance.yml: ${ref}`);
    }
    const example = seen('.github/workflows/train-cifar10.yml');
    for (const ref of ['inputs.format', 'steps.digests.outputs.subjects', 'needs.train.outputs.subjects', 'needs.provenance.outputs.artifact-name']) {
      assert.ok(example.includes(ref), `train-cifar10.yml: ${ref}`);
    }
    assert.ok(!example.some((r) => r.startsWith('inputs.') && r.includes('github')), 'github.event.inputs.* is not an inputs reference');
  });

  it('every inputs.X names an input declared under on.workflow_call or on.workflow_dispatch', () => {
    assert.deepEqual(reported('inputs'), []);
  });

  it('every secrets.X in the reusable workflow names a declared workflow_call secret', () => {
    assert.deepEqual(reported('secrets'), []);
  });

  it('every steps.S.outputs.O names an earlier step of the job and an output it has (action.yml for ./.slsa-ml)', () => {
    assert.deepEqual(reported('steps'), []);
  });

  it('./.slsa-ml is checked out before use and gets only inputs action.yml declares, every required one', () => {
    assert.deepEqual(reported('action-call', 'checkout'), []);
  });

  it('every needs.J.outputs.O names a job in needs and an output it declares (the reusable workflow\'s for a call)', () => {
    assert.deepEqual(reported('needs'), []);
  });

  it('a call of provenance.yml passes only its declared inputs and secrets, and every required input', () => {
    assert.deepEqual(reported('workflow-call'), []);
  });

  it("the reusable workflow's outputs each name an existing jobs.J.outputs.O", () => {
    assert.deepEqual(reported('workflow-outputs'), []);
  });

  it('every third-party action is pinned to a full commit sha', () => {
    assert.deepEqual(reported('pinning'), []);
  });

  it("action.yml declares exactly the inputs (with their required-ness) and outputs of the action's code", () => {
    assert.deepEqual([...action.inputs.keys()].sort(), Object.keys(INPUTS).sort());
    const inCode = INPUTS as Readonly<Record<string, { readonly required: boolean }>>;
    for (const [name, spec] of action.inputs) {
      // The runner fills in defaults, so an input with a non-empty default always reaches the code.
      assert.equal(inCode[name]?.required, spec.required || (spec.default ?? '') !== '', `input ${name}`);
    }
    assert.deepEqual([...action.outputs].sort(), [...OUTPUTS].sort());
  });

  it('action.yml runs on node24 from a main file that exists', () => {
    assert.equal(action.using, 'node24');
    assert.equal(typeof action.main, 'string');
    assert.ok(existsSync(join(repo, String(action.main))), `runs.main ${String(action.main)}`);
  });
});

interface Mistake { readonly file: string; readonly from: string; readonly to: string; readonly expect: ReadonlyArray<readonly [Rule, string, string]> }

// Each a one-line mistake in a copy of the real files; `at` paths write step indexes as [*].
const MISTAKES: readonly Mistake[] = [
  { file: 'provenance.yml', from: 'subjects: ${{ inputs.subjects }}', to: 'subjects: ${{ inputs.subjetcs }}', expect: [['inputs', 'jobs.provenance.steps[*].with.subjects', 'inputs.subjetcs']] },
  { file: 'provenance.yml', from: 'model: ${{ steps.sign.outputs.model }}', to: 'model: ${{ steps.sign.outputs.nope }}', expect: [['steps', 'jobs.provenance.outputs.model', 'steps.sign.outputs.nope']] },
  { file: 'provenance.yml', from: 'MODEL: ${{ steps.sign.outputs.model }}', to: 'MODEL: ${{ steps.signer.outputs.model }}', expect: [['steps', 'jobs.provenance.steps[*].env.MODEL', 'steps.signer.outputs.model']] },
  // A step sees only the steps before it: `artifact` runs after `sign`.
  { file: 'provenance.yml', from: 'subjects: ${{ inputs.subjects }}', to: 'subjects: ${{ steps.artifact.outputs.name }}', expect: [['steps', 'jobs.provenance.steps[*].with.subjects', 'steps.artifact.outputs.name']] },
  { file: 'provenance.yml', from: '${{ secrets.gcp-credentials-json }}', to: '${{ secrets.gcp-credentials }}', expect: [['secrets', 'jobs.provenance.steps[*].with.credentials_json', 'secrets.gcp-credentials']] },
  { file: 'provenance.yml', from: 'value: ${{ jobs.provenance.outputs.builder-id }}', to: 'value: ${{ jobs.provenance.outputs.builder }}', expect: [['workflow-outputs', 'on.workflow_call.outputs.builder-id.value', 'jobs.provenance.outputs.builder']] },
  { file: 'provenance.yml', from: 'output-dir: ${{ runner.temp }}', to: 'output-folder: ${{ runner.temp }}', expect: [['action-call', 'jobs.provenance.steps[*].with.output-folder', 'output-folder']] },
  { file: 'provenance.yml', from: 'path: .slsa-ml', to: 'path: slsa-ml', expect: [['checkout', 'jobs.provenance.steps[*].uses', './.slsa-ml']] },
  {
    file: 'train-cifar10.yml', from: 'subjects: ${{ needs.train.outputs.subjects }}', to: 'subject: ${{ needs.train.outputs.subjects }}',
    expect: [['workflow-call', 'jobs.provenance.with.subject', 'subject'], ['workflow-call', 'jobs.provenance.with', 'subjects']],
  },
  { file: 'train-cifar10.yml', from: '${{ needs.provenance.outputs.artifact-name }}', to: '${{ needs.provenance.outputs.artifact_name }}', expect: [['needs', 'jobs.verify.steps[*].with.name', 'needs.provenance.outputs.artifact_name']] },
  { file: 'train-cifar10.yml', from: 'runner: ${{ steps.results.outputs.runner }}', to: 'runner: ${{ steps.results.outputs.runners }}', expect: [['steps', 'jobs.train.outputs.runner', 'steps.results.outputs.runners']] },
  { file: 'train-cifar10.yml', from: 'actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8', to: 'actions/checkout@v5', expect: [['pinning', 'jobs.train.steps[*].uses', 'actions/checkout@v5']] },
];

describe('the reference checker, given a copy of the workflows with one mistake', () => {
  const baseline = new Set(findings.map(describeFinding));
  for (const mistake of MISTAKES) {
    it(`${mistake.file}: "${mistake.to}" is reported, and nothing else`, () => {
      const edited = sources.map((s) => {
        if (s.file !== `.github/workflows/${mistake.file}`) return s;
        assert.ok(s.text.includes(mistake.from), `${mistake.file} no longer contains ${mistake.from}`);
        return { ...s, text: s.text.replace(mistake.from, mistake.to) };
      });
      const added = findingsOf(edited).filter((f) => !baseline.has(describeFinding(f)));
      const got = added.map((f) => [f.rule, f.at.replace(/\[\d+\]/g, '[*]'), f.ref]);
      assert.deepEqual(got, mistake.expect, added.map(describeFinding).join('\n'));
      assert.ok(added.every((f) => f.file === `.github/workflows/${mistake.file}`));
    });
  }
});
