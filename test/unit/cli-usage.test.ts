// Bad usage and bad input: exit code 2, one line that names the flag (or argument) and the
// problem, and never a stack trace. Also: every command explains itself with --help.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { cli, cliProcess, hasStackTrace, taskRunFor, writeKeyPair, type KeyFiles } from '../support/cli.ts';

let dir: string;
let key: KeyFiles;
let model: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-usage-'));
  key = await writeKeyPair(dir, 'cosign');
  model = join(dir, 'model.pth');
  await writeFile(model, 'weights');
  await writeFile(join(dir, 'garbage.pem'), 'not a key');
  await writeFile(join(dir, 'not-yaml.yaml'), 'kind: TaskRun\n  bad: [indent');
  const tr = taskRunFor({ modelUri: 'gs://models-bucket/m/model.pth' });
  await writeFile(join(dir, 'v1beta1.json'), JSON.stringify({ ...tr, apiVersion: 'tekton.dev/v1beta1' }));
  const running = structuredClone(tr) as unknown as { status: { conditions: Array<Record<string, string>> } };
  running.status.conditions = [{ type: 'Succeeded', status: 'Unknown', reason: 'Running' }];
  await writeFile(join(dir, 'running.json'), JSON.stringify(running));
  await writeFile(join(dir, 'tr.json'), JSON.stringify(tr));
});
after(() => rm(dir, { recursive: true, force: true }));

async function usageError(argv: string[], message: RegExp): Promise<void> {
  const run = await cli(argv, { cwd: dir });
  assert.equal(run.code, 2, `${argv.join(' ')} → ${run.code}\n${run.stdout}${run.stderr}`);
  assert.match(run.stderr, message);
  assert.equal(hasStackTrace(run.stderr), false, run.stderr);
  assert.equal(run.stdout, '', 'nothing on stdout');
}

describe('when asked for help', () => {
  for (const command of ['verify', 'pull', 'query', 'attest', 'policy', 'keygen']) {
    it(`${command} --help shows usage, every flag group and examples (exit 0)`, async () => {
      const run = await cli([command, '--help']);
      assert.equal(run.code, 0);
      assert.match(run.stdout, new RegExp(`^Usage: slsa-ml ${command}`));
      assert.match(run.stdout.slice(run.stdout.indexOf('\nExamples:\n')), new RegExp(`\\n {2}slsa-ml ${command}`));
      assert.match(run.stdout, /Exit codes: 0 /);
      const again = await cli(['help', command]);
      assert.equal(again.stdout, run.stdout);
    });
  }

  it('slsa-ml --help lists the commands; no command at all is a usage error', async () => {
    const run = await cli(['--help']);
    assert.equal(run.code, 0);
    for (const command of ['verify', 'pull', 'query', 'attest', 'policy', 'keygen', 'operator']) assert.match(run.stdout, new RegExp(`\\n {2}${command} +\\S`));
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^Usage: slsa-ml COMMAND/);
  });
});

describe('when the command line is wrong', () => {
  it('an unknown command', () => usageError(['verfy', model], /^slsa-ml: unknown command "verfy"/));
  it('an unknown flag, naming it and pointing at --help', () => usageError(['verify', model, '--kye', key.publicPath], /^slsa-ml verify: unknown flag --kye\nRun 'slsa-ml verify --help' for usage\.\n$/));
  it('a flag without its value', () => usageError(['verify', model, '--key'], /flag --key needs a value/));
  it('a boolean flag given a value', () => usageError(['verify', model, '--key', key.publicPath, '--json=yes'], /flag --json takes no value/));
  it('a single-value flag given twice', () => usageError(['verify', model, '--key', key.publicPath, '--key', key.publicPath], /flag --key is given more than once/));
  it('no model', () => usageError(['verify', '--key', key.publicPath], /missing MODEL/));
  it('two models', () => usageError(['verify', model, model, '--key', key.publicPath], /one MODEL at a time/));
  it('no trust at all', () => usageError(['verify', model], /say whom to trust: --key/));
  it('two kinds of trust', () => usageError(['verify', model, '--key', key.publicPath, '--certificate-identity', 'a@b'], /--key and --certificate-identity cannot be used together/));
  it('keyless without an issuer or a trusted root', async () => {
    await usageError(['verify', model, '--certificate-identity', 'a@b'], /needs --certificate-oidc-issuer/);
    await usageError(['verify', model, '--certificate-identity', 'a@b', '--certificate-oidc-issuer', 'https://accounts.google.com'], /needs --trusted-root FILE/);
  });
  it('a malformed KMS key name', () => usageError(['verify', model, '--kms', 'gcpkms://projects/p/keys/k'], /^slsa-ml verify: --kms: KMS key must be named/));
  it('a bad --deny rule, naming the flag', () => usageError(['verify', model, '--key', key.publicPath, '--deny', 'torch<2.6'], /--deny: "torch<2\.6": expected a package URL/));
  it('a bad --max-age', () => usageError(['verify', model, '--key', key.publicPath, '--max-age', '30 days'], /--max-age: "30 days" is not a duration/));
  it('a bad --gcs-endpoint', () => usageError(['verify', 'gs://models-bucket/m', '--key', key.publicPath, '--gcs-endpoint', 'localhost:4443'], /--gcs-endpoint localhost:4443: must be an http:\/\/ or https:\/\/ URL/));
});

describe('when something the command names cannot be used', () => {
  it('a key file that does not exist', () => usageError(['verify', model, '--key', 'missing.pub'], /^slsa-ml verify: --key missing\.pub: no such file or directory\n/));
  it('a key file that is a directory', () => usageError(['verify', model, '--key', dir], /--key .*: is a directory, not a file/));
  it('a key file that holds no key', () => usageError(['verify', model, '--key', 'garbage.pem'], /--key garbage\.pem: verification key is not an ECDSA P-256 public key/));
  it('a model URI of another scheme', async () => {
    await usageError(['verify', 's3://bucket/model.pth', '--key', key.publicPath], /model s3:\/\/bucket\/model\.pth: s3:\/\/ is not supported; give a local path, a file:\/\/ URI or a gs:\/\/ URI/);
    await usageError(['verify', 'https://example.com/model.pth', '--key', key.publicPath], /https:\/\/ is not supported/);
  });
  it('a gs:// URI with an invalid bucket name', () => usageError(['verify', 'gs://Bad_Bucket/model.pth', '--key', key.publicPath], /model gs:\/\/Bad_Bucket\/model\.pth: invalid storage URI/));
  it('a model that does not exist', () => usageError(['verify', 'nothing.pth', '--key', key.publicPath], /model nothing\.pth: no such file or directory/));
  it('a --provenance file that does not exist', () => usageError(['verify', model, '--key', key.publicPath, '--provenance', 'nope.json'], /--provenance nope\.json: no such file or object/));
});

describe('when query is used wrongly', () => {
  it('no --under', () => usageError(['query', '--dependency', 'pkg:pypi/torch', '--key', key.publicPath], /missing --under/));
  it('--under of another scheme', () => usageError(['query', '--under', 's3://b/p/', '--dependency', 'pkg:pypi/torch', '--key', key.publicPath], /--under s3:\/\/b\/p\/: only gs:\/\//));
  it('nothing to look for', () => usageError(['query', '--under', 'gs://models-bucket/', '--key', key.publicPath], /say what to look for/));
  it('a bad --image', () => usageError(['query', '--under', 'gs://models-bucket/', '--image', 'latest', '--key', key.publicPath], /--image: "latest": expected sha256:/));
  it('a bad --concurrency', () => usageError(['query', '--under', 'gs://models-bucket/', '--dependency', 'pkg:pypi/torch', '--concurrency', '0', '--key', key.publicPath], /--concurrency 0: must be a whole number/));
});

describe('when attest is used wrongly', () => {
  const signer = ['--key', 'cosign.key', '--allowed-prefix', 'gs://models-bucket/'];
  it('no --taskrun', () => usageError(['attest', ...signer], /missing --taskrun FILE/));
  it('no --allowed-prefix', () => usageError(['attest', '--taskrun', 'tr.json', '--key', 'cosign.key'], /missing --allowed-prefix/));
  it('an allowed prefix without its slash', () => usageError(['attest', '--taskrun', 'tr.json', '--key', 'cosign.key', '--allowed-prefix', 'gs://models-bucket/m'], /--allowed-prefix gs:\/\/models-bucket\/m: must end with "\/"/));
  it('no signer, or two', async () => {
    await usageError(['attest', '--taskrun', 'tr.json', '--allowed-prefix', 'gs://models-bucket/'], /say how to sign/);
    await usageError(['attest', '--taskrun', 'tr.json', ...signer, '--kms', 'gcpkms://x'], /--key and --kms cannot be used together/);
  });
  it('a private key file that holds no key', () => usageError(['attest', '--taskrun', 'tr.json', '--key', 'garbage.pem', '--allowed-prefix', 'gs://models-bucket/'], /^slsa-ml attest: --key: /));
  it('a TaskRun file that is not YAML', () => usageError(['attest', '--taskrun', 'not-yaml.yaml', ...signer], /--taskrun not-yaml\.yaml: not valid YAML or JSON/));
  it('a v1beta1 TaskRun', () => usageError(['attest', '--taskrun', 'v1beta1.json', ...signer], /apiVersion is "tekton\.dev\/v1beta1", want tekton\.dev\/v1/));
  it('a TaskRun that has not finished', () => usageError(['attest', '--taskrun', 'running.json', ...signer], /the TaskRun is Succeeded=Unknown \(Running\); only a run that succeeded is attested/));
  it('a key (not a TaskRun) given as --taskrun', () => usageError(['attest', '--taskrun', 'cosign.pub', ...signer], /--taskrun cosign\.pub: (not a Kubernetes object|is a)/));
  it('--taskrun and --pipelinerun together', () => usageError(['attest', '--taskrun', 'tr.json', '--pipelinerun', 'pr.json', ...signer], /--taskrun and --pipelinerun cannot be used together/));
  it('--taskruns or --no-deep-inspection with --taskrun', async () => {
    await usageError(['attest', '--taskrun', 'tr.json', '--taskruns', 'trs.yaml', ...signer], /--taskruns goes with --pipelinerun, not --taskrun/);
    await usageError(['attest', '--taskrun', 'tr.json', '--no-deep-inspection', ...signer], /--no-deep-inspection goes with --pipelinerun/);
  });
  it('--pod or --node with --pipelinerun', () => usageError(['attest', '--pipelinerun', 'pr.json', '--node', 'node.json', ...signer], /--node goes with --taskrun: a PipelineRun's Pods and Nodes are not read offline/));
  it('standard input named twice', () => usageError(['attest', '--pipelinerun', '-', '--taskruns', '-', ...signer], /"-" \(standard input\) can be read once/));
  it('a TaskRun given as --pipelinerun', () => usageError(['attest', '--pipelinerun', 'tr.json', ...signer], /--pipelinerun tr\.json: holds 0 PipelineRuns; give exactly one/));
});

describe('when the real executable meets a user error', () => {
  it('exits 2 with one clear line and no stack trace', async () => {
    const unknown = await cliProcess(['verify', 'model.pth', '--kye', 'x'], { cwd: dir });
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, "slsa-ml verify: unknown flag --kye\nRun 'slsa-ml verify --help' for usage.\n");
    const unreadable = await cliProcess(['verify', 'model.pth', '--key', 'missing.pub'], { cwd: dir });
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.stderr, /^slsa-ml verify: --key missing\.pub: no such file or directory\n/);
    assert.equal(hasStackTrace(unknown.stderr + unreadable.stderr), false);
  });
});

describe('when asked which slsa-ml this is', () => {
  it('prints the package version for version and --version, also as JSON, from the real executable', async () => {
    const { version } = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const run = await cliProcess(['version'], { cwd: dir });
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `slsa-ml ${version}\n`);
    assert.equal((await cli(['--version'])).stdout, `slsa-ml ${version}\n`);
    assert.deepEqual(JSON.parse((await cli(['version', '--json'])).stdout), { name: 'slsa-ml', version });
    assert.match((await cli(['--help'])).stdout, /\n {2}version +print the version/);
  });
});
