// Which result shapes can reach a TaskRun through real Tekton, and what the operator then does.
// Tekton's entrypoint writes results into the termination message, and the controller reads them
// from there: a value larger than 4096 bytes never arrives (the step fails instead), and an
// object result that is not JSON is dropped. Those shapes exist only in TaskRuns whose status a
// test writes by hand. A well-formed result with a bad value (a digest that is not hex) does
// pass through Tekton, and the operator refuses it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testEnv, uniqueName } from '../harness/index.ts';
import { startKeySignedOperator, stopAllOperators, type OperatorProcess } from '../support/operator-process.ts';
import { applyObjects, isDone, loadDocuments, runTaskThroughTekton, succeeded, tektonNamespace, type Manifest, type TektonRun } from '../support/tekton-runs.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const repo = join(import.meta.dirname, '..', '..');
const prefix = uniqueName('tekton-results');

let operator: OperatorProcess;

function taskRun(ns: string, name: string): Manifest {
  return {
    apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name, namespace: ns },
    spec: { taskRef: { name: 'train-model' }, params: [{ name: 'model-uri', value: `gs://${env.bucket}/${prefix}/${ns}/${name}` }] },
  };
}

async function run(name: string, results: Record<string, unknown>, until: (run: TektonRun) => boolean = isDone): Promise<TektonRun> {
  const ns = await tektonNamespace(env, `tekton-results-${name}`);
  await applyObjects(admin, ns, loadDocuments(join(repo, 'tasks', 'train-model.yaml')));
  return runTaskThroughTekton(env, { namespace: ns, taskRun: taskRun(ns, name), outcomes: () => ({ clone: {}, train: { results } }), until });
}

const resultNames = (tr: TektonRun): string[] => ((tr.status?.results ?? []) as Array<{ name: string }>).map((r) => r.name);

describe('result shapes through real Tekton', () => {
  before(async () => {
    ({ operator } = await startKeySignedOperator(env, prefix));
  });

  after(async () => {
    await operator.stop('SIGTERM');
    await stopAllOperators();
  });

  it('a malformed digest in a well-formed object result reaches the TaskRun, and the operator refuses it naming the result', async () => {
    const uri = `gs://${env.bucket}/${prefix}/m.pth`;
    const tr = await run('malformed-digest', { model_ARTIFACT_OUTPUTS: { uri, digest: 'sha256:not-hex', isBuildArtifact: 'true' } },
      (r) => r.metadata.annotations?.['slsa-ml.dev/signed'] !== undefined);
    assert.equal(succeeded(tr)?.status, 'True');
    assert.equal(tr.metadata.annotations?.['slsa-ml.dev/signed'], 'failed');
    assert.match(tr.metadata.annotations?.['slsa-ml.dev/reason'] ?? '', /^MALFORMED_HINT: .*model_ARTIFACT_OUTPUTS/);
  });

  // The 4096-byte limit is the entrypoint's (pkg/termination), applied by the Pod stand-in as the entrypoint applies it.
  it('a result larger than 4096 bytes never reaches the TaskRun: the entrypoint fails the step and Tekton the run (only a hand-written status can hold one)', async () => {
    const tr = await run('huge', { FRAMEWORKS: Array.from({ length: 200 }, (_, i) => `pkg:pypi/package-number-${i}@1.0.0`) });
    assert.equal(succeeded(tr)?.status, 'False');
    assert.deepEqual(resultNames(tr), []);
    const train = (tr.status?.steps as Array<{ name: string; terminated?: { exitCode: number } }>).find((s) => s.name === 'train');
    assert.equal(train?.terminated?.exitCode, 1);
  });

  it('an object result that is not JSON is dropped by Tekton (only a hand-written status can hold one)', async () => {
    const tr = await run('not-json', { model_ARTIFACT_OUTPUTS: 'uri=gs://x/m.pth digest=sha256:00', FRAMEWORKS: ['pkg:pypi/torch@2.10.0'] });
    assert.deepEqual(resultNames(tr), ['FRAMEWORKS']);
  });
});
