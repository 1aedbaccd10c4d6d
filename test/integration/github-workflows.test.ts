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
  type Finding, type Rule, type Source, type Step,
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
  it('are the reusable provenance workflow, the release workflow and the CIFAR10 example', () => {
    assert.deepEqual(workflowFiles, ['.github/workflows/provenance.yml', '.github/workflows/release.yml', '.github/workflows/train-cifar10.yml']);
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
    const release = seen('.github/workflows/release.yml');
    for (const ref of ['steps.name.outputs.image', 'steps.build.outputs.digest', 'needs.image.outputs.image', 'needs.image.outputs.digest']) {
      assert.ok(release.includes(ref), `release.yml: ${ref}`);
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

describe('the release workflow', () => {
  const release = parseWorkflow(read('.github/workflows/release.yml'));
  const job = (name: string): Record<string, unknown> => release.jobs.get(name)?.raw ?? {};
  const steps = (name: string): readonly Step[] => release.jobs.get(name)?.steps ?? [];

  it('runs on version tags only', () => {
    assert.deepEqual(release.raw.on, { push: { tags: ['v*'] } });
  });

  it('grants nothing by default and each job only what its steps need', () => {
    assert.deepEqual(release.raw.permissions, {});
    assert.deepEqual([...release.jobs.keys()], ['image', 'release']);
    assert.deepEqual(job('image').permissions, { contents: 'read', packages: 'write', 'id-token': 'write', attestations: 'write' });
    assert.deepEqual(job('release').permissions, { contents: 'write', 'id-token': 'write', attestations: 'write' });
    assert.deepEqual(job('release').needs, 'image');
  });

  it('signs the image and attests its provenance by the digest it pushed, to ghcr.io/<repository>', () => {
    const image = steps('image');
    const sign = image.find((s) => (s.run ?? '').startsWith('cosign sign'));
    assert.equal(sign?.run, 'cosign sign --yes "$IMAGE@$DIGEST"');
    assert.deepEqual(sign?.raw.env, { IMAGE: '${{ steps.name.outputs.image }}', DIGEST: '${{ steps.build.outputs.digest }}' });
    const attest = image.find((s) => (s.uses ?? '').startsWith('actions/attest@'));
    assert.deepEqual(attest?.with, {
      'subject-name': '${{ steps.name.outputs.image }}', 'subject-digest': '${{ steps.build.outputs.digest }}', 'push-to-registry': true, 'create-storage-record': false,
    });
    assert.match(image.find((s) => s.id === 'name')?.run ?? '', /^echo "image=ghcr\.io\/\$\{GITHUB_REPOSITORY,,\}" >> "\$GITHUB_OUTPUT"$/);
    assert.match(image.find((s) => s.id === 'build')?.run ?? '', /--provenance=false[\s\S]*--push/);
  });

  it('renders release.yaml with hack/render-release.sh, as the manifests test does, from the pushed digest with the pinned kubectl', () => {
    const release = steps('release');
    const render = release.find((s) => (s.run ?? '').includes('hack/render-release.sh'));
    assert.equal(render?.run, 'KUBECTL="$RUNNER_TEMP/kubectl" bash hack/render-release.sh "$IMAGE@$DIGEST" "$RUNNER_TEMP/release"');
    assert.deepEqual(render?.raw.env, { IMAGE: '${{ needs.image.outputs.image }}', DIGEST: '${{ needs.image.outputs.digest }}' });
    assert.match(release.find((s) => s.raw.name === 'Install kubectl')?.run ?? '', /^\. hack\/versions\.env\n.*\$KUBE_VERSION/s);
    const attest = release.find((s) => (s.uses ?? '').startsWith('actions/attest@'));
    assert.deepEqual(attest?.with, { 'subject-path': '${{ runner.temp }}/release/*' });
    assert.match((release.at(-1)?.run ?? '').trimEnd(), /gh release create "\$TAG" [^\n]*--verify-tag[\s\S]*"\$RUNNER_TEMP"\/release\/\*$/);
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
  { file: 'release.yml', from: 'DIGEST: ${{ needs.image.outputs.digest }}', to: 'DIGEST: ${{ needs.image.outputs.sha }}', expect: [['needs', 'jobs.release.steps[*].env.DIGEST', 'needs.image.outputs.sha']] },
  { file: 'release.yml', from: 'digest: ${{ steps.build.outputs.digest }}', to: 'digest: ${{ steps.built.outputs.digest }}', expect: [['steps', 'jobs.image.outputs.digest', 'steps.built.outputs.digest']] },
  { file: 'release.yml', from: 'sigstore/cosign-installer@6f9f17788090df1f26f669e9d70d6ae9567deba6', to: 'sigstore/cosign-installer@v4.1.2', expect: [['pinning', 'jobs.image.steps[*].uses', 'sigstore/cosign-installer@v4.1.2']] },
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
