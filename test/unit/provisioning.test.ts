// First use on a new machine: hack/install-node.sh, hack/install-tools.sh and hack/provision.sh
// say in one line what is missing or too old (Node, Go, Python) instead of failing somewhere in
// the middle, and a build that waits for another one's lock says so while it waits. Each runs with
// a PATH of this machine's commands minus node, npm, go and python, plus stand-ins that report the
// versions under test, and an empty cache, so nothing is downloaded or built.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pinnedVersions } from '../../hack/env/tools.ts';

const hack = join(import.meta.dirname, '..', '..', 'hack');
const HIDDEN = /^(node|nodejs|npm|npx|corepack|go|gofmt|python.*|pip.*)$/;
const NODE_VERSION = pinnedVersions().NODE_VERSION ?? '';

let root: string;
let system: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'slsa-ml-provisioning-'));
  // This machine's commands without the toolchains under test.
  system = join(root, 'system');
  mkdirSync(system);
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!HIDDEN.test(name) && !existsSync(join(system, name))) symlinkSync(join(dir, name), join(system, name));
    }
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A directory of stand-in commands, each a shell script. */
function standIns(scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'bin-'));
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

const fakeNode = (version: string): string => `[ "$1" = -p ] && { echo ${version}; exit 0; }; [ "$1" = --version ] && echo v${version}`;
const fakeGo = (version: string): string => `[ "$1 $2" = "env GOVERSION" ] && echo ${version}`;
const fakePython = (version: string): string => `echo ${version}`;

interface Run { readonly status: number | null; readonly stdout: string; readonly stderr: string }

function run(script: string, args: string[], bin: string[], env: Record<string, string> = {}): Run {
  const cache = mkdtempSync(join(root, 'cache-'));
  const r = spawnSync('bash', [join(hack, script), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { HOME: root, SLSA_ML_CACHE: cache, ...env, PATH: [...bin, system].join(':') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLine(r: Run, message: RegExp): void {
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line, not a trace:\n${r.stderr}`);
  assert.match(r.stderr.trim(), message);
}

describe('when Node is missing or too old', () => {
  it('install-node says there is no node', () => {
    assertOneLine(run('install-node.sh', [], []), new RegExp(`^install-node: Node\\.js >= 18 with npm is needed to fetch Node ${NODE_VERSION} from the npm registry, and there is no node on PATH$`));
  });

  it('install-node names a node older than 18', () => {
    assertOneLine(run('install-node.sh', [], [standIns({ node: fakeNode('16.20.2') })]), /^install-node: Node\.js >= 18 with npm is needed .*; this node is v16\.20\.2$/);
  });

  it('install-node says a node without npm cannot fetch Node 24', () => {
    assertOneLine(run('install-node.sh', [], [standIns({ node: fakeNode('20.19.0') })]), /^install-node: npm is needed to fetch Node .* and node v20\.19\.0 has none on PATH$/);
  });

  it('install-node prints the directory of a node that is new enough, fetching nothing', () => {
    const bin = standIns({ node: fakeNode('24.21.0') });
    const r = run('install-node.sh', [], [bin]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), bin);
    assert.equal(r.stderr, '');
  });

  it('install-node prints the cached Node 24, needing no npm', () => {
    const cache = mkdtempSync(join(root, 'cache-'));
    const cached = join(cache, `node-v${NODE_VERSION}`, 'bin');
    mkdirSync(cached, { recursive: true });
    writeFileSync(join(cached, 'node'), '');
    chmodSync(join(cached, 'node'), 0o755);
    const r = run('install-node.sh', [], [standIns({ node: fakeNode('18.20.0') })], { SLSA_ML_CACHE: cache });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), cached);
  });
});

describe('when Go is missing or too old', () => {
  it('install-tools says there is no go, for an item built with Go', () => {
    assertOneLine(run('install-tools.sh', ['etcd'], []), /^install-tools: Go >= 1\.24 is needed to build etcd, and there is no go on PATH \(see README, Prerequisites\)$/);
  });

  it('install-tools names a go older than 1.24', () => {
    assertOneLine(run('install-tools.sh', ['kwok'], [standIns({ go: fakeGo('go1.22.3') })]), /^install-tools: Go >= 1\.24 is needed to build kwok; this go is 1\.22\.3 \(see README, Prerequisites\)$/);
  });

  it('provision checks before building anything, so an old go fails at once even with Python items missing too', () => {
    const r = run('provision.sh', ['demo'], [standIns({ go: fakeGo('go1.23.0'), python3: fakePython('3.11') })]);
    assertOneLine(r, /^install-tools: Go >= 1\.24 is needed to build etcd; this go is 1\.23\.0/);
    assert.doesNotMatch(r.stderr, /building/);
  });

  it('accepts a go 1.24 release candidate', () => {
    const r = run('install-tools.sh', ['--missing', 'etcd'], [standIns({ go: fakeGo('go1.24rc1') })]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'etcd\n');
  });
});

describe('when Python is missing or too old', () => {
  it('install-tools says there is no python3, for the training venv', () => {
    assertOneLine(run('install-tools.sh', ['training'], []), /^install-tools: Python >= 3\.11 \(python3, or set PYTHON\) is needed for the training virtualenv, and there is no python3 on PATH$/);
  });

  it('install-tools names a python older than 3.11', () => {
    assertOneLine(run('install-tools.sh', ['verifiers'], [standIns({ python3: fakePython('3.9') })]), /^install-tools: Python >= 3\.11 is needed for the verifier virtualenv; python3 is 3\.9 \(set PYTHON to another one\)$/);
  });
});

describe('when another build holds an item', () => {
  it('says it is waiting for it, keeps saying so, and uses what the other build made', async () => {
    const cache = mkdtempSync(join(root, 'cache-'));
    const target = join(cache, 'bin', `actionlint-${pinnedVersions().ACTIONLINT_VERSION ?? ''}`);
    mkdirSync(join(cache, 'locks'), { recursive: true });
    // The other build: holds the item's lock for 2.5 s, then leaves the finished tool.
    const other = spawn('flock', [join(cache, 'locks', 'actionlint'), 'sh', '-c', `sleep 2.5; touch '${target}'`], { stdio: 'ignore' });
    const exited = new Promise((resolve) => other.once('exit', resolve));
    // Until the other build really holds the lock (flock -n fails), however loaded the machine.
    while (spawnSync('flock', ['-n', join(cache, 'locks', 'actionlint'), 'true']).status === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    const r = run('install-tools.sh', ['actionlint'], [standIns({ go: fakeGo('go1.26.0') })], { SLSA_ML_CACHE: cache, SLSA_ML_PROGRESS_SECONDS: '1' });
    await exited;
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0] ?? '', /^install-tools: waiting for another build of actionlint \(it holds .*\/locks\/actionlint\)$/);
    assert.ok(lines.some((l) => /^install-tools: still waiting for another build of actionlint \(\d+s\)$/.test(l)), r.stderr);
    assert.match(lines.at(-1) ?? '', /^install-tools: the other build of actionlint is over after \d+s$/);
    assert.doesNotMatch(r.stderr, /building actionlint/);
  });
});
