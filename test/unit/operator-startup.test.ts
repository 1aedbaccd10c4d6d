// The operator's output is JSON log lines (Cloud Logging reads them). A failure to start — an
// unreadable kubeconfig, a bad configuration — is one more JSON line with severity CRITICAL, and
// never a raw stack trace after the JSON lines.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const bin = join(import.meta.dirname, '..', '..', 'operator', 'bin.ts');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slsa-ml-startup-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function operator(config: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, 'operator', '--config', config], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('when the operator cannot start', () => {
  it('ends a bad KUBECONFIG with one CRITICAL JSON line naming it, exit 1, and no stack trace', async () => {
    const config = join(dir, 'config.yaml');
    await writeFile(config, 'leaderElection:\n  enabled: false\nsigner:\n  kind: key\n  keyPath: /nonexistent/cosign.key\n');
    const run = await operator(config, { KUBECONFIG: join(dir, 'missing-kubeconfig') });
    assert.equal(run.code, 1);
    const lines = jsonLines(run.stdout);
    const last = lines.at(-1);
    assert.equal(last?.severity, 'CRITICAL');
    assert.match(String(last?.message), /^slsa-ml operator cannot start: .*missing-kubeconfig/);
    assert.equal(run.stderr, '');
    assert.doesNotMatch(run.stdout, /\n\s+at /);
  });

  it('reports a configuration mistake the same way, with its code, exit 2', async () => {
    const run = await operator(join(dir, 'no-such-config.yaml'), {});
    assert.equal(run.code, 2);
    const [line, ...rest] = jsonLines(run.stdout);
    assert.deepEqual(rest, []);
    assert.equal(line?.code, 'INVALID_CONFIG');
    assert.equal(line?.severity, 'CRITICAL');
  });
});

describe('when the configuration is wrong, the line says what to fix', () => {
  const kubeconfig = async (): Promise<string> => {
    const path = join(dir, 'kubeconfig');
    await writeFile(path, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    return path;
  };

  it('names the missing seal key of a KMS signer before any KMS call is tried', async () => {
    const config = join(dir, 'kms.yaml');
    await writeFile(config, 'leaderElection:\n  enabled: false\nsigner:\n  kind: kms\n  keyName: gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1\n  apiEndpoint: 127.0.0.1:1\n');
    const run = await operator(config, { KUBECONFIG: await kubeconfig() });
    assert.equal(run.code, 2, run.stdout);
    const last = jsonLines(run.stdout).at(-1);
    assert.equal(last?.code, 'INVALID_CONFIG');
    assert.match(String(last?.message), /seal\.keyPath.*is required unless signer\.kind is key/);
    assert.doesNotMatch(String(last?.message), /cloudkms|credential|ECONNREFUSED/i);
  });

  it('names the policy file and its key when a verification-summary policy cannot be used', async () => {
    const key = join(dir, 'cosign.key');
    await writeFile(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const policy = join(dir, 'serving-policy.yaml');
    await writeFile(policy, 'deny: [pkg:pypi/torch@<2.6.0]\nbuilder_id: https://x\n');
    const config = join(dir, 'summaries.yaml');
    await writeFile(config, `leaderElection:\n  enabled: false\nsigner:\n  kind: key\n  keyPath: ${key}\nverificationSummaries:\n  policyPaths: [${policy}]\n`);
    const run = await operator(config, { KUBECONFIG: await kubeconfig() });
    assert.equal(run.code, 2, run.stdout);
    const last = jsonLines(run.stdout).at(-1);
    assert.equal(last?.code, 'INVALID_CONFIG');
    assert.match(String(last?.message), /verificationSummaries\.policyPaths: item 0: policy file \S+serving-policy\.yaml: key builder_id: unknown key/);
  });

  it('says where a YAML mistake is, in one line that does not end in a dangling excerpt', async () => {
    const config = join(dir, 'broken.yaml');
    await writeFile(config, 'signer:\n kind: key\n  keyPath: /k\n');
    const run = await operator(config, {});
    assert.equal(run.code, 2, run.stdout);
    const message = String(jsonLines(run.stdout).at(-1)?.message);
    assert.match(message, /not valid YAML: Nested mappings are not allowed in compact mappings at line 2, column 8 \(from \S+broken\.yaml\)$/);
    assert.doesNotMatch(message, /\n/);
  });
});
