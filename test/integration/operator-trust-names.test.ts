// Two more of the trust attacks, through real Tekton and as the tenant identity (it applies the
// Task and creates the run; the test plays the training pod): names the tenant chooses must not
// pass for platform facts (attack 6), and a file:// model reached through a symlinked directory
// must not lead the operator out of its storage root (attack 8).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bindTenant, testEnv, uniqueName } from '../harness/index.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { applyObjects, createRun, isDone, readStatement, supplyOutcomes, tektonNamespace, waitForRun, type Manifest, type TektonRun } from '../support/tekton-runs.ts';
import { sha256, uploadModel } from '../support/training-run.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const tenant = env.kubeConfig('tenant');

/** A Task that reports a model and one plain result; its step's outcome is what the test supplies. */
const REPORT_TASK: Manifest = {
  apiVersion: 'tekton.dev/v1',
  kind: 'Task',
  metadata: { name: 'report' },
  spec: {
    results: [
      { name: 'model_ARTIFACT_OUTPUTS', type: 'object', properties: { uri: { type: 'string' }, digest: { type: 'string' }, isBuildArtifact: { type: 'string' } } },
      { name: 'accuracy', type: 'string' },
    ],
    steps: [{ name: 'train', image: 'python:3.11-slim', script: 'true' }],
  },
};

const sealed = (run: TektonRun): boolean => isDone(run) && run.metadata.annotations?.['slsa-ml.dev/seal'] !== undefined;

/** The tenant applies the Task and creates the run; the "pod" reports `results`; returns the run once the operator decided. */
async function runAsTenant(ns: string, name: string, results: Record<string, unknown>, labels: Record<string, string> = {}): Promise<TektonRun> {
  await applyObjects(tenant, ns, [REPORT_TASK]);
  const runner = supplyOutcomes(env, ns, () => ({ train: { results } }));
  try {
    await createRun(tenant, ns, { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name, labels }, spec: { taskRef: { name: 'report' } } });
    return await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name }, sealed, { runner });
  } finally {
    await runner.stop();
  }
}

async function tenantNamespace(hint: string): Promise<string> {
  const ns = await tektonNamespace(env, hint);
  await bindTenant(env, ns);
  return ns;
}

let keys: SigningKeys;
const operators: OperatorProcess[] = [];

/** An operator watching only `namespace` (each test runs its own, with its own storage). */
async function operator(namespace: string, config: Record<string, unknown>): Promise<void> {
  if (!keys) {
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
  }
  const started = await startOperator(env, {
    namespaces: [namespace], signer: { kind: 'key', keyPath: keys.privateKeyPath }, builderId: 'https://slsa-ml.dev/operator/test', leaderElection: { enabled: false }, ...config,
  });
  operators.push(started);
  await started.ready();
}

after(async () => {
  for (const o of operators) await o.stop('SIGTERM');
  await stopAllOperators();
});

describe('attack 6: names the tenant chooses', () => {
  it('byproducts are named after the TaskRun, not a tekton.dev/pipelineTask label a standalone run can carry, and are marked tenant-reported', async () => {
    const prefix = uniqueName('trust-names');
    const ns = await tenantNamespace('trust-names');
    await operator(ns, { allowedPrefixes: [`gs://${env.bucket}/${prefix}/{namespace}/`], storage: { gcs: { apiEndpoint: env.gcsEndpoint, userProject: 'slsa-ml-test' } } });
    const model = Buffer.from(`weights ${ns}`);
    const uri = await uploadModel(env, `${prefix}/${ns}/model.pth`, model);
    const run = await runAsTenant(ns, 'train', {
      model_ARTIFACT_OUTPUTS: { uri, digest: `sha256:${sha256(model)}`, isBuildArtifact: 'true' },
      accuracy: '0.93',
    }, { 'tekton.dev/pipelineTask': 'release-approved-export' });
    assert.equal(run.metadata.annotations?.['slsa-ml.dev/signed'], 'true', run.metadata.annotations?.['slsa-ml.dev/reason']);
    const statement = await readStatement(env, `${uri}.sigstore.json`);
    const byproducts = statement.predicate.runDetails.byproducts ?? [];
    assert.deepEqual(byproducts.map((b) => b.name), ['taskRunResults/train/accuracy']);
    assert.equal(byproducts[0]?.annotations?.tenantReported, true);
    assert.doesNotMatch(JSON.stringify(statement.predicate.runDetails), /release-approved-export/);
    // The subject's name is the object the operator measured, whatever the run called it.
    assert.deepEqual(statement.subject.map((s) => s.name), [`${prefix}/${ns}/model.pth`]);
  });
});

describe('attack 8: file:// storage and a symlinked directory', () => {
  it('refuses a model reached through a link that leads out of the storage root, and writes nothing there', async () => {
    const root = mkdtempSync(join(tmpdir(), 'trust-file-root-'));
    const outside = mkdtempSync(join(tmpdir(), 'trust-file-outside-'));
    const ns = await tenantNamespace('trust-file');
    await operator(ns, { allowedPrefixes: [`file://${root}/{namespace}/`], storage: { gcs: {}, fileRoot: root } });
    // What the training pod can do under its own prefix: make a directory that is a link elsewhere.
    const secret = Buffer.from('a model outside the root');
    writeFileSync(join(outside, 'secret.pth'), secret);
    mkdirSync(join(root, ns), { recursive: true });
    symlinkSync(outside, join(root, ns, 'escape'));
    const run = await runAsTenant(ns, 'train', {
      model_ARTIFACT_OUTPUTS: { uri: `file://${root}/${ns}/escape/secret.pth`, digest: `sha256:${sha256(secret)}`, isBuildArtifact: 'true' },
    });
    assert.equal(run.metadata.annotations?.['slsa-ml.dev/signed'], 'failed');
    assert.match(run.metadata.annotations?.['slsa-ml.dev/reason'] ?? '', /^MODEL_UNREADABLE: .*resolves outside the storage root .*symbolic link/);
    assert.deepEqual(readdirSync(outside), ['secret.pth'], 'nothing written next to the model outside the root');
  });
});
