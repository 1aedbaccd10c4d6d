// slsa-ml attest against fake-gcs-server: provenance for a finished TaskRun's (or PipelineRun's)
// gs:// model that cosign v2.6 (the independent verifier) and slsa-ml verify both accept, written
// create-only.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { stringify } from 'yaml';

import { PIPELINE_BUILD_TYPE } from '../../src/provenance/index.ts';
import { pipelineRunFor } from '../fixtures/cli-pipeline/pipeline.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cosignVerifyAttestation } from '../support/cosign.ts';
import { cli, cliProcess, taskRunFor, writeKeyPair, type KeyFiles, type RunFacts } from '../support/cli.ts';

let scratch: string;
let key: KeyFiles;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-attest-gcs-'));
  key = await writeKeyPair(scratch, 'cosign');
});
after(() => rm(scratch, { recursive: true, force: true }));

const bucket = () => testEnv().storageClient().bucket(testEnv().bucket);
const gs = (name: string) => `gs://${testEnv().bucket}/${name}`;

async function taskRunFile(facts: RunFacts): Promise<string> {
  const path = join(scratch, `${uniqueName('taskrun')}.json`);
  await writeFile(path, JSON.stringify(taskRunFor(facts)));
  return path;
}

async function download(name: string): Promise<string> {
  const path = join(scratch, `${uniqueName('dl')}-${name.split('/').pop() ?? 'object'}`);
  await bucket().file(name).download({ destination: path });
  return path;
}

function attestArgs(taskRun: string, prefix: string): string[] {
  return ['attest', '--taskrun', taskRun, '--key', key.privatePath, '--allowed-prefix', gs(prefix), '--gcs-endpoint', testEnv().gcsEndpoint];
}

describe('when attest signs a gs:// file model', () => {
  it('writes both siblings; cosign verifies the bundle and the envelope, and so does slsa-ml verify', async () => {
    const prefix = `${uniqueName('attest-file')}/`;
    const name = `${prefix}cifar10/v3/pytorch_model.pth`;
    await bucket().file(name).save(randomBytes(100_000), { resumable: false });
    const run = await cliProcess(attestArgs(await taskRunFile({ modelUri: gs(name) }), prefix));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`bundle +${gs(name)}\\.sigstore\\.json\\n {2}envelope +${gs(name)}\\.intoto\\.jsonl\\n`));
    assert.equal(run.stderr, '');

    const model = await download(name);
    const bundle = await cosignVerifyAttestation({ publicKeyPath: key.publicPath, bundlePath: await download(`${name}.sigstore.json`), artifact: { file: model } });
    assert.ok(bundle.ok, bundle.output);
    const envelope = await cosignVerifyAttestation({ publicKeyPath: key.publicPath, envelopePath: await download(`${name}.intoto.jsonl`), artifact: { file: model } });
    assert.ok(envelope.ok, envelope.output);
    const otherFile = join(scratch, 'other.pth');
    await writeFile(otherFile, 'not the model');
    assert.equal((await cosignVerifyAttestation({ publicKeyPath: key.publicPath, envelopePath: await download(`${name}.intoto.jsonl`), artifact: { file: otherFile } })).ok, false,
      'cosign refuses another artifact');

    const verified = await cli(['verify', gs(name), '--key', key.publicPath, '--gcs-endpoint', testEnv().gcsEndpoint]);
    assert.equal(verified.code, 0, verified.stdout);
  });
});

describe('when attest signs a gs:// prefix (directory) model', () => {
  it('cosign verifies the root digest it reports, and slsa-ml verify accepts the prefix', async () => {
    const prefix = `${uniqueName('attest-dir')}/`;
    const model = `${prefix}mnist/v1/saved_model/`;
    for (const file of ['saved_model.pb', 'fingerprint.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001']) {
      await bucket().file(model + file).save(randomBytes(5000), { resumable: false });
    }
    const run = await cli([...attestArgs(await taskRunFile({ modelUri: gs(model), frameworks: ['pkg:pypi/tensorflow-cpu@2.20.0'] }), prefix), '--json']);
    assert.equal(run.code, 0, run.stderr);
    const [attested] = (JSON.parse(run.stdout) as { attested: Array<{ sha256: string; bundle: string }> }).attested;
    assert.equal(attested?.bundle, gs(`${prefix}mnist/v1/saved_model.sigstore.json`));
    const cosign = await cosignVerifyAttestation({
      publicKeyPath: key.publicPath,
      bundlePath: await download(`${prefix}mnist/v1/saved_model.sigstore.json`),
      artifact: { sha256: attested?.sha256 ?? '' },
    });
    assert.ok(cosign.ok, cosign.output);
    const verified = await cli(['verify', gs(model), '--key', key.publicPath, '--gcs-endpoint', testEnv().gcsEndpoint, '--deny', 'pkg:pypi/tensorflow-cpu@<2.20.0']);
    assert.equal(verified.code, 0, verified.stdout);
  });
});

describe('when provenance already exists next to the model', () => {
  it('refuses (exit 1), names the object, and leaves both objects as they were', async () => {
    const prefix = `${uniqueName('attest-twice')}/`;
    const name = `${prefix}model.pth`;
    await bucket().file(name).save(randomBytes(1000), { resumable: false });
    const taskRun = await taskRunFile({ modelUri: gs(name) });
    assert.equal((await cli(attestArgs(taskRun, prefix))).code, 0);
    const [before] = await bucket().getFiles({ prefix: `${name}.` });
    const again = await cli(attestArgs(taskRun, prefix));
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `slsa-ml attest: refused: ${gs(name)}.sigstore.json already exists; provenance is never overwritten\n`);
    const [after] = await bucket().getFiles({ prefix: `${name}.` });
    assert.deepEqual(after.map((f) => [f.name, f.metadata.generation]), before.map((f) => [f.name, f.metadata.generation]));
  });

  it('refuses a reported digest that differs from the object, writing nothing', async () => {
    const prefix = `${uniqueName('attest-mismatch')}/`;
    const name = `${prefix}model.pth`;
    await bucket().file(name).save(randomBytes(1000), { resumable: false });
    const run = await cli(attestArgs(await taskRunFile({ modelUri: gs(name), reportedSha256: '0'.repeat(64) }), prefix));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /refused: result model_ARTIFACT_OUTPUTS: reported sha256:0{64} but gs:\/\/.* measures sha256:/);
    const [siblings] = await bucket().getFiles({ prefix: `${name}.` });
    assert.deepEqual(siblings, []);
  });
});

describe('when attest signs the model of a PipelineRun (--pipelinerun)', () => {
  it('writes pipeline provenance that cosign verifies, and that slsa-ml verify and query read by the tasks\' facts', async () => {
    const prefix = `${uniqueName('attest-pipeline')}/`;
    const name = `${prefix}cifar10/v4/pytorch_model.pth`;
    await bucket().file(name).save(randomBytes(50_000), { resumable: false });
    const objects = pipelineRunFor({ modelUri: gs(name), frameworks: ['pkg:pypi/torch@2.5.1'] });
    // As `kubectl get pipelinerun … -o yaml; echo ---; kubectl get taskruns -l … -o yaml` writes them.
    const runFile = join(scratch, `${uniqueName('pipelinerun')}.yaml`);
    await writeFile(runFile, `${stringify(objects.pipelineRun)}---\n${stringify({ apiVersion: 'v1', kind: 'List', items: objects.taskRuns })}`);
    const run = await cliProcess(['attest', '--pipelinerun', runFile, '--key', key.privatePath, '--allowed-prefix', gs(prefix), '--gcs-endpoint', testEnv().gcsEndpoint, '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((JSON.parse(run.stdout) as { attested: Array<{ model: string }> }).attested.map((a) => a.model), [gs(name)]);

    const bundle = await cosignVerifyAttestation({ publicKeyPath: key.publicPath, bundlePath: await download(`${name}.sigstore.json`), artifact: { file: await download(name) } });
    assert.ok(bundle.ok, bundle.output);

    const gcs = ['--gcs-endpoint', testEnv().gcsEndpoint];
    const verified = await cli(['verify', gs(name), '--key', key.publicPath, ...gcs, '--json', '--source-repo', 'github.com/example/cifar10-training', '--namespace', 'team-vision']);
    assert.equal(verified.code, 0, verified.stdout);
    const verdict = JSON.parse(verified.stdout) as { buildType: string; pipelineRun: { name: string } | null; taskRun: unknown };
    assert.equal(verdict.buildType, PIPELINE_BUILD_TYPE);
    assert.equal(verdict.pipelineRun?.name, objects.pipelineRun.metadata.name);
    assert.equal(verdict.taskRun, null);
    const otherRepo = await cli(['verify', gs(name), '--key', key.publicPath, ...gcs, '--source-repo', 'github.com/example/other']);
    assert.equal(otherRepo.code, 1, otherRepo.stdout);
    assert.match(otherRepo.stdout, /FAIL {2}sourceRepo .*\[SOURCE_MISMATCH\]/);

    const query = await cli(['query', '--under', gs(prefix), '--key', key.publicPath, ...gcs, '--dependency', 'pkg:pypi/torch@<2.6.0', '--json']);
    assert.equal(query.code, 1, query.stderr);
    const answer = JSON.parse(query.stdout) as { affected: Array<{ model: string; matched: string[]; pipelineRun: { name: string } | null }> };
    assert.deepEqual(answer.affected.map((a) => [a.model, a.matched, a.pipelineRun?.name]), [[gs(name), ['pkg:pypi/torch@2.5.1'], objects.pipelineRun.metadata.name]]);
  });

  it('refuses a TaskRun of another PipelineRun by name, writing nothing', async () => {
    const prefix = `${uniqueName('attest-pipeline-foreign')}/`;
    const name = `${prefix}model.pth`;
    await bucket().file(name).save(randomBytes(1000), { resumable: false });
    const objects = pipelineRunFor({ modelUri: gs(name) });
    const stranger = pipelineRunFor({ modelUri: gs(name) }).taskRuns[1];
    const prFile = join(scratch, `${uniqueName('pr')}.json`);
    const trFile = join(scratch, `${uniqueName('trs')}.json`);
    await writeFile(prFile, JSON.stringify(objects.pipelineRun));
    await writeFile(trFile, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...objects.taskRuns, stranger] }));
    const run = await cli(['attest', '--pipelinerun', prFile, '--taskruns', trFile, '--key', key.privatePath, '--allowed-prefix', gs(prefix), '--gcs-endpoint', testEnv().gcsEndpoint]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^slsa-ml attest: refused: --taskruns \\S+: TaskRun ${stranger?.metadata.name ?? '?'} is controlled by PipelineRun `));
    const [siblings] = await bucket().getFiles({ prefix: `${name}.` });
    assert.deepEqual(siblings, []);
  });
});
