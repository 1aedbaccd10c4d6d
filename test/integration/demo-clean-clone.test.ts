// README's promise, as a new user meets it: `git clone`, then `npm run demo` with the machine's
// own node (Node 20 here) first on PATH and empty caches for Node and the npm packages. hack/run.sh
// fetches Node 24 from the npm registry, runs `npm ci` (every package downloaded again), and the
// demo passes: its PipelineRun clones the clone itself (fetch-source), trains, and is verified. The Go-built components and the Python venvs are this machine's, linked into the
// otherwise empty cache: the Go and Python caches are warm here, by design (built cold they take
// about half an hour; README, "Cold and warm times").
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cacheDir, pinnedVersions } from '../../hack/env/tools.ts';

const repo = join(import.meta.dirname, '..', '..');
const NODE_VERSION = pinnedVersions().NODE_VERSION ?? '';
const DEMO_ITEMS = ['etcd', 'kube-apiserver', 'kube-scheduler', 'kubectl', 'fake-gcs-server', 'tekton', 'tekton-config', 'tekton-controller', 'tekton-resolvers', 'kserve', 'kwok', 'cosign', 'training'];

let root: string;

before(() => {
  // What the clone borrows must be there: otherwise it would be built into a cache this test deletes.
  const missing = execFileSync('bash', [join(repo, 'hack', 'install-tools.sh'), '--missing', ...DEMO_ITEMS], { encoding: 'utf8' }).trim();
  assert.equal(missing, '', `not provisioned on this machine: ${missing} (bash hack/provision.sh demo)`);
  root = mkdtempSync(join(tmpdir(), 'slsa-ml-clean-clone-'));
});
after(() => { if (root) rmSync(root, { recursive: true, force: true }); });

/** An empty cache but for links to this machine's Go-built components and Python venvs. */
function cacheWithoutNode(): string {
  const cache = join(root, 'cache');
  mkdirSync(cache);
  const real = cacheDir();
  for (const name of readdirSync(real)) {
    if (!/^(node-v|locks$|last-env$)/.test(name)) symlinkSync(join(real, name), join(cache, name));
  }
  return cache;
}

function hasNode(dir: string): boolean {
  try {
    accessSync(join(dir, 'node'), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** This PATH without the Node 24 the tests run on, its cached copy, and npm's node_modules/.bin entries. */
function machinePath(): string {
  const ours = [realpathSync(dirname(process.execPath)), realpathSync(cacheDir())];
  return (process.env.PATH ?? '').split(delimiter).filter((dir) => {
    if (!dir || dir.includes(`${'/'}node_modules/.bin`)) return false;
    if (!hasNode(dir)) return true;
    const node = realpathSync(join(dir, 'node'));
    return !ours.some((prefix) => node.startsWith(prefix));
  }).join(delimiter);
}

/** The environment a user's shell has: none of npm's variables from the `npm test` around this test, no test environment. */
function userEnv(path: string, cache: string, npmCache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|slsa_ml_|kubeconfig$|node_options$|init_cwd$)/i.test(key)) env[key] = value;
  }
  return { ...env, PATH: path, SLSA_ML_CACHE: cache, npm_config_cache: npmCache };
}

interface Run { readonly code: number | null; readonly stdout: string; readonly stderr: string; readonly seconds: number }

function npmRunDemo(cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  const started = Date.now();
  const child = spawn('npm', ['run', 'demo'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
  return new Promise((resolve) => child.once('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr, seconds: Math.round((Date.now() - started) / 1000) });
  }));
}

describe('when a new user clones the repository and runs npm run demo', () => {
  it('with the machine\'s node and empty Node and npm caches, it fetches Node 24 and the npm packages, and the demo passes', { timeout: 600_000 }, async (t) => {
    const clone = join(root, 'slsa-ml');
    execFileSync('git', ['clone', '--quiet', repo, clone]);
    const cache = cacheWithoutNode();
    const npmCache = join(root, 'npm-cache');
    const path = machinePath();
    const env = userEnv(path, cache, npmCache);
    const machineNode = execFileSync('node', ['-p', 'process.versions.node'], { env, encoding: 'utf8' }).trim();
    t.diagnostic(`the machine's node on PATH: v${machineNode}; Go-built components and Python venvs linked from ${cacheDir()} (warm)`);

    const run = await npmRunDemo(clone, env, 570_000);
    const output = `exit ${String(run.code)} after ${run.seconds}s\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    t.diagnostic(`npm run demo from the clean clone: ${run.seconds}s in all; ${[...run.stderr.matchAll(/^(?:install-node|slsa-ml): .* ready in \d+s$/gm)].map((m) => m[0]).join('; ')}`);
    assert.equal(run.code, 0, output);

    if (Number(machineNode.split('.')[0]) < Number(NODE_VERSION.split('.')[0])) {
      assert.match(run.stderr, new RegExp(`^install-node: this node is v${machineNode.replaceAll('.', '\\.')}; fetching node-linux-\\w+@${NODE_VERSION} from the npm registry`, 'm'), output);
      assert.ok(existsSync(join(cache, `node-v${NODE_VERSION}`, 'bin', 'node')), 'Node 24 landed in the empty cache');
    }
    assert.match(run.stderr, /^slsa-ml: installing the npm packages \(there is no node_modules\): npm ci$/m, output);
    assert.ok(readdirSync(npmCache).length > 0, 'npm downloaded into the empty npm cache');
    assert.doesNotMatch(run.stderr, /^provision: first use/m, 'nothing built: the Go and Python products are linked in');
    assert.match(run.stdout, /training venv found/, output);
    // The pipeline ran from the clone: fetch-source cloned the clone's own HEAD, four Pods on the CPU pool.
    const head = execFileSync('git', ['-C', clone, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const cloned = realpathSync(clone).replaceAll('.', '\\.');
    assert.match(run.stdout, new RegExp(`^ {3}source +file://${cloned} at ${head} \\(this checkout's HEAD\\)`, 'm'), output);
    assert.equal([...run.stdout.matchAll(/^ {3}Pod +cifar10-cpu-\w+-(fetch-source|train|evaluate|upload)-pod on gke-slsa-ml-local-cpu-pool-/gm)].length, 4, output);
    assert.match(run.stdout, /^ {3}PipelineRun +annotated slsa-ml\.dev\/signed=true/m, output);
    assert.match(run.stdout, /^VERIFIED$/m, output);
    assert.match(run.stdout, new RegExp(`^ {2}PASS {2}sourceRepo +git\\+file://${cloned}\\.git$`, 'm'), output);
    assert.match(run.stdout, /^ {3}\| Verified OK$/m, output);
    assert.match(run.stdout, /^DEMO PASSED/m, output);
  });
});
