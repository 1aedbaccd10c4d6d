// The release workflow's own shell steps (.github/workflows/release.yml), run on this machine as the
// runner runs them: the tag and CHANGELOG gate, the image name, the render step (the pinned kubectl
// stands where the workflow downloads it) and the publishing step (with `gh` replaced by a recorder).
// What needs GitHub or a registry — docker push, cosign, actions/attest, the kubectl download — does
// not run here; test/integration/github-workflows.test.ts checks how those steps are wired.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { runStep, type Contexts, type Workflow, type WorkflowStep } from '../support/workflow-steps.ts';

const repo = join(import.meta.dirname, '..', '..');
const DIGEST = `sha256:${'c0'.repeat(32)}`;

let root: string;
let workflow: Workflow;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-release-workflow-'));
  workflow = parse(await readFile(join(repo, '.github', 'workflows', 'release.yml'), 'utf8')) as Workflow;
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function step(job: string, match: (s: WorkflowStep) => boolean): WorkflowStep {
  const found = workflow.jobs[job]?.steps?.find(match);
  assert.ok(found, `release.yml: no such step in job ${job}`);
  return found;
}

/** A job's environment on the runner; `temp` is $RUNNER_TEMP. */
function jobEnv(temp: string, path = process.env.PATH ?? ''): Record<string, string> {
  return {
    PATH: path, HOME: temp, RUNNER_TEMP: temp, GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'Slsa-ML/Slsa-ML',
    GITHUB_SHA: 'f'.repeat(40), GITHUB_ACTOR: 'releaser',
  };
}

async function dir(name: string, files: Record<string, string> = {}): Promise<string> {
  const path = join(root, name);
  await mkdir(path, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
  return path;
}

const CHANGELOG = [
  '# Changelog', '', '## [Unreleased]', '', '- next', '',
  '## [1.2.3] - 2027-01-15', '', '### Added', '', '- the thing', '',
  '## [1.2.2] - 2026-12-01', '', '- the older thing', '',
].join('\n');

describe('the release workflow, its shell steps run as the runner runs them', () => {
  describe('the tag and CHANGELOG gate', () => {
    const gate = (): WorkflowStep => step('image', (s) => (s.name ?? '').startsWith('Check that the tag'));
    const attempt = async (name: string, tag: string, changelog: string): Promise<{ code: number; output: string }> => {
      const workspace = await dir(name, { 'package.json': JSON.stringify({ name: 'slsa-ml', version: '1.2.3' }), 'CHANGELOG.md': changelog });
      return runStep(gate(), { github: { ref_name: tag } }, workspace, jobEnv(workspace));
    };

    it("passes the tag of package.json's version with a dated CHANGELOG section", async () => {
      const { code, output } = await attempt('gate-ok', 'v1.2.3', CHANGELOG);
      assert.equal(code, 0, output);
    });

    it('stops on a tag that is not package.json\'s version', async () => {
      const { code, output } = await attempt('gate-tag', 'v1.2.4', CHANGELOG);
      assert.equal(code, 1);
      assert.match(output, /::error::tag v1\.2\.4 is not v1\.2\.3 \(package\.json\)/);
    });

    it('stops while the version\'s CHANGELOG section is missing or undated', async () => {
      for (const changelog of [CHANGELOG.replace('## [1.2.3] - 2027-01-15', '## [1.2.3] - unreleased'), CHANGELOG.replace('1.2.3', '1.2.0'), CHANGELOG.replace('## [1.2.3]', '## [1x2x3]')]) {
        const { code, output } = await attempt('gate-changelog', 'v1.2.3', changelog);
        assert.equal(code, 1, changelog);
        assert.match(output, /::error::CHANGELOG\.md has no section "## \[1\.2\.3\] - YYYY-MM-DD"/);
      }
    });

    it("reads this repository's own CHANGELOG.md: its heading for package.json's version passes once dated", async () => {
      const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
      const changelog = await readFile(join(repo, 'CHANGELOG.md'), 'utf8');
      const { code, output } = await runStep(gate(), { github: { ref_name: `v${version}` } }, repo, jobEnv(root));
      assert.equal(code, new RegExp(`^## \\[${version.replaceAll('.', '\\.')}\\] - \\d{4}-\\d\\d-\\d\\d$`, 'm').test(changelog) ? 0 : 1, output);
    });
  });

  it('names the image ghcr.io/<repository> in lower case', async () => {
    const { code, output, outputs } = await runStep(step('image', (s) => s.id === 'name'), {}, root, jobEnv(root));
    assert.equal(code, 0, output);
    assert.deepEqual(outputs, { image: 'ghcr.io/slsa-ml/slsa-ml' });
  });

  describe('rendering and publishing', () => {
    let temp: string;
    let path: string;
    const contexts = (): Contexts => ({
      github: { ref_name: 'v1.2.3' },
      needs: { image: { outputs: { image: 'ghcr.io/slsa-ml/slsa-ml', digest: DIGEST } } },
      runner: { temp },
    });

    before(async () => {
      temp = await dir('runner-temp');
      // Where the workflow's "Install kubectl" step leaves the pinned kubectl.
      await symlink(requireTool(toolPaths().kubectl, 'kubectl'), join(temp, 'kubectl'));
      // A `gh` that records what `gh release create` was given, and keeps the notes file it names.
      const bin = await dir('bin');
      const recorded = join(temp, 'gh-args');
      await writeFile(join(bin, 'gh'), `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > '${recorded}'\nwhile [ $# -gt 0 ]; do [ "$1" = --notes-file ] && cp "$2" '${recorded}.notes'; shift; done\n`);
      await chmod(join(bin, 'gh'), 0o755);
      path = `${bin}:${process.env.PATH ?? ''}`;
    });

    it('renders release.yaml with the pushed image by digest, and collects the release files', async () => {
      const render = step('release', (s) => (s.run ?? '').includes('hack/render-release.sh'));
      const { code, output } = await runStep(render, contexts(), repo, jobEnv(temp));
      assert.equal(code, 0, output);
      assert.deepEqual((await readdir(join(temp, 'release'))).sort(), [
        'pod-monitoring.yaml', 'release.yaml', 'service-monitor.yaml', 'serving.yaml', 'values-key.yaml', 'values-kms.yaml', 'values-sigstore.yaml',
      ]);
      const release = await readFile(join(temp, 'release', 'release.yaml'), 'utf8');
      assert.deepEqual([...release.matchAll(/^\s*(?:- )?image: (.+)$/gm)].map((m) => m[1]), [`ghcr.io/slsa-ml/slsa-ml@${DIGEST}`]);
    });

    it("publishes the tag's release with those files, the CHANGELOG section as notes, and how to verify", async () => {
      const recorded = join(temp, 'gh-args');
      const workspace = await dir('publish', { 'CHANGELOG.md': CHANGELOG });
      const publish = step('release', (s) => s.name === 'Publish the GitHub release');
      const { code, output } = await runStep(publish, { ...contexts(), github: { ref_name: 'v1.2.3', token: 'ghs_test' } }, workspace, jobEnv(temp, path));
      assert.equal(code, 0, output);
      const args = (await readFile(recorded, 'utf8')).trim().split('\n');
      assert.deepEqual(args.slice(0, 7), ['release', 'create', 'v1.2.3', '--repo', 'Slsa-ML/Slsa-ML', '--verify-tag', '--title']);
      assert.ok(!args.includes('--prerelease'));
      assert.deepEqual(args.filter((a) => a.startsWith(join(temp, 'release'))).map((a) => a.slice(temp.length + '/release/'.length)).sort(), [
        'pod-monitoring.yaml', 'release.yaml', 'service-monitor.yaml', 'serving.yaml', 'values-key.yaml', 'values-kms.yaml', 'values-sigstore.yaml',
      ]);
      const notes = await readFile(`${recorded}.notes`, 'utf8');
      assert.ok(notes.startsWith('\n### Added\n\n- the thing\n\n## Install'), notes);
      assert.ok(!notes.includes('older thing') && !notes.includes('- next'), 'only the released version\'s section');
      assert.ok(notes.includes(`cosign verify ghcr.io/slsa-ml/slsa-ml@${DIGEST} --certificate-identity https://github.com/Slsa-ML/Slsa-ML/.github/workflows/release.yml@refs/tags/v1.2.3 --certificate-oidc-issuer https://token.actions.githubusercontent.com`), notes);
      assert.ok(notes.includes(`gh attestation verify oci://ghcr.io/slsa-ml/slsa-ml@${DIGEST} --repo Slsa-ML/Slsa-ML`), notes);
    });

    it('marks a tag with a pre-release suffix as a pre-release', async () => {
      const workspace = await dir('publish-rc', { 'CHANGELOG.md': CHANGELOG.replace('## [1.2.3]', '## [1.2.3-rc.1]') });
      const publish = step('release', (s) => s.name === 'Publish the GitHub release');
      const { code, output } = await runStep(publish, { ...contexts(), github: { ref_name: 'v1.2.3-rc.1', token: 'ghs_test' } }, workspace, jobEnv(temp, path));
      assert.equal(code, 0, output);
      const args = (await readFile(join(temp, 'gh-args'), 'utf8')).trim().split('\n');
      assert.ok(args.includes('--prerelease'), args.join(' '));
      assert.match(await readFile(join(temp, 'gh-args.notes'), 'utf8'), /^\n### Added\n/);
    });
  });
});
