// `npm run demo` as a user runs it: its own local environment, the operator, a training
// PipelineRun of tasks/train-pipeline.yaml (four tasks, four Pods on the CPU pool), one provenance
// for the PipelineRun, `slsa-ml verify` and cosign — then nothing left running, also after Ctrl-C.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';

const repo = join(import.meta.dirname, '..', '..');

interface DemoRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the demo; once stdout matches `interruptWhen`, awaits `before` (if any) and sends SIGINT. */
function runDemo(args: string[], timeoutMs: number, interruptWhen?: RegExp, before?: (stdout: string) => Promise<unknown>): Promise<DemoRun> {
  const child = spawn(process.execPath, [join(repo, 'hack', 'demo', 'run.ts'), ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (interruptWhen && !interrupted && interruptWhen.test(stdout)) {
      interrupted = true;
      void (before ? before(stdout) : Promise.resolve()).finally(() => child.kill('SIGINT'));
    }
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.once('exit', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stdout, stderr });
  }));
}

/** What the demo printed it had started, to check afterwards that it is all gone. */
function startedThings(stdout: string): { stateDir: string; gcsEndpoint: string; keyDir?: string; stepDir?: string } {
  const stateDir = /^ {3}state +(\S+)$/m.exec(stdout)?.[1];
  const gcsEndpoint = /^ {3}GCS +(http:\/\/\S+) \(fake-gcs-server\)/m.exec(stdout)?.[1];
  assert.ok(stateDir && gcsEndpoint, `the demo names its environment:\n${stdout}`);
  const keyDir = /^ {3}public +(\S+)\/cosign\.pub$/m.exec(stdout)?.[1];
  // Where the Pods' steps ran, the PipelineRun's shared workspace among them.
  const stepDir = /^ {3}step runs +(\S+) \(/m.exec(stdout)?.[1];
  return { stateDir, gcsEndpoint, keyDir, stepDir };
}

const answers = (url: string): Promise<boolean> => fetch(url, { signal: AbortSignal.timeout(2000) }).then(() => true, () => false);

async function assertNothingLeft(stdout: string): Promise<void> {
  const { stateDir, gcsEndpoint, keyDir, stepDir } = startedThings(stdout);
  assert.equal(existsSync(stateDir), false, `${stateDir} removed`);
  // Every component (Tekton, kube-scheduler, kwok included) names its state directory in its arguments; a step its script's path.
  const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(stateDir) || (stepDir !== undefined && line.includes(stepDir)));
  assert.deepEqual(left, [], 'no process of the environment, and no step, is left');
  if (keyDir) assert.equal(existsSync(keyDir), false, `${keyDir} removed`);
  if (stepDir) assert.equal(existsSync(stepDir), false, `${stepDir} removed`);
  assert.equal(await answers(`${gcsEndpoint}/storage/v1/b`), false, 'fake-gcs-server stopped');
  const metrics = /^ {3}metrics +(http:\S+)$/m.exec(stdout)?.[1];
  if (metrics) assert.equal(await answers(metrics), false, 'the operator stopped');
}

describe('when a user runs npm run demo', () => {
  it('is the package script (hack/run.sh first: Node 24 and the npm packages, test/integration/demo-clean-clone.test.ts)', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.demo, 'bash hack/run.sh -- node hack/demo/run.ts');
  });

  it('attests the model a PipelineRun trained, slsa-ml verify and cosign accept it, it exits 0 and leaves nothing running', { timeout: 90_000 }, async () => {
    requireTool(toolPaths().cosign, 'cosign');
    const run = await runDemo([], 85_000);
    const output = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    assert.equal(run.code, 0, output);
    assert.match(run.stdout, /training venv found|no training venv/, 'says how the model was made');
    // Through the real Tekton controller, from the Pipeline, its Tasks and the example PipelineRun in tasks/.
    const files = ['fetch-source', 'train-cifar10', 'evaluate-model', 'upload-model', 'train-pipeline'].map((f) => ` -f \\S+\\/tasks\\/${f}\\.yaml`).join('');
    assert.match(run.stdout, new RegExp(`^ {3}\\$ kubectl apply -n team-vision${files}$`, 'm'), output);
    const pipelineRun = /^ {3}PipelineRun +team-vision\/(cifar10-cpu-\w+)$/m.exec(run.stdout)?.[1] ?? assert.fail(`names the PipelineRun it created:\n${output}`);
    for (const task of ['fetch-source', 'train', 'evaluate', 'upload']) {
      assert.match(run.stdout, new RegExp(`^ {3}Pod +${pipelineRun}-${task}-pod on gke-slsa-ml-local-cpu-pool-`, 'm'), `the ${task} task's Pod on the CPU pool`);
      assert.match(run.stdout, new RegExp(`^ {3}task +${task} +node pool cpu-pool \\(`, 'm'), `the provenance names the ${task} task's node pool`);
    }
    assert.match(run.stdout, /^ {3}PipelineRun +Succeeded: .*\(status written by the Tekton controller\)$/m);
    // The operator's outcome is on the PipelineRun; its TaskRuns carry none.
    assert.match(run.stdout, /^ {3}PipelineRun +annotated slsa-ml\.dev\/signed=true, labelled slsa-ml\.dev\/provenance=signed$/m);
    assert.match(run.stdout, /^ {3}TaskRuns +no outcome on any of them/m);
    assert.match(run.stdout, /^ {3}invocation +[0-9a-f-]{36} \(the PipelineRun's UID\)$/m);
    const commit = /^ {3}source +file:\/\/\S+ at ([0-9a-f]{40}) \(this checkout's HEAD\)/m.exec(run.stdout)?.[1] ?? assert.fail(`names the source it clones:\n${output}`);
    assert.match(run.stdout, new RegExp(`^ {3}source +git\\+file:\\/\\/\\S+\\.git at ${commit} \\(reported by task fetch-source\\)$`, 'm'));
    // slsa-ml verify, with the source the fetch task cloned.
    assert.match(run.stdout, /^VERIFIED$/m, output);
    assert.match(run.stdout, new RegExp(`^ {2}PASS {2}subject +sha256:[0-9a-f]{64} is subject "models\\/cifar10\\/${pipelineRun}\\/pytorch_model\\.pth"$`, 'm'));
    assert.match(run.stdout, /^ {2}PASS {2}builderId +https:\/\/slsa-ml\.dev\/operator\/local-demo$/m);
    assert.match(run.stdout, /^ {2}PASS {2}sourceRepo +git\+file:\/\/\S+\.git$/m);
    assert.match(run.stdout, new RegExp(`^ {2}PASS {2}sourceRef +${commit}$`, 'm'));
    assert.match(run.stdout, /^ {3}\| Verified OK$/m, 'cosign verified the envelope');
    assert.match(run.stdout, /^DEMO PASSED/m);
    await assertNothingLeft(run.stdout);
  });

  it('with --keep, leaves the model and its provenance reachable where it printed them until Ctrl-C', { timeout: 45_000 }, async () => {
    let reachable: Promise<boolean[]> | undefined;
    const run = await runDemo(['--keep', '--synthetic'], 43_000, /everything stays up until Ctrl-C/, (stdout) => {
      const { gcsEndpoint } = startedThings(stdout);
      const [, bucket = '', model = ''] = /^ {3}model +gs:\/\/([^/\s]+)\/(models\/cifar10\/cifar10-cpu-\w+\/pytorch_model\.pth)$/m.exec(stdout) ?? [];
      const object = (name: string): string => `${gcsEndpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`;
      reachable = Promise.all([model, `${model}.sigstore.json`, `${model}.intoto.jsonl`]
        .map((name) => fetch(object(name)).then((r) => r.ok, () => false)));
      return reachable;
    });
    assert.equal(run.code, 130, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    assert.match(run.stdout, /^DEMO PASSED/m);
    assert.deepEqual(await reachable, [true, true, true]);
    await assertNothingLeft(run.stdout);
  });

  it('stops everything it started when interrupted with Ctrl-C while the PipelineRun runs', { timeout: 45_000 }, async () => {
    const run = await runDemo(['--synthetic'], 43_000, /^ {3}Pod +\S+-fetch-source-pod on /m);
    assert.equal(run.code, 130, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    assert.match(run.stderr, /SIGINT, stopping everything it started/);
    await assertNothingLeft(run.stdout);
  });
});
