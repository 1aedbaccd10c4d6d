// Tekton copies a Task's labels and annotations onto every TaskRun of it. A Task that carries the
// operator's keys (slsa-ml.dev/signed: "true" and friends) therefore puts them on the run through
// the real Tekton controller itself, not through any tenant write to the TaskRun. The operator
// must still measure, sign and record its own sealed outcome. With the reserved-keys admission
// policy in force such a Task cannot be created, and one resolved remotely (here: Tekton's git
// resolver) does not get past Tekton either: Tekton validates a resolved Task with a dry-run
// create in the run's namespace, which the policy refuses, so the run never starts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ApiException, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli } from '../support/cli.ts';
import { localGitRepo, type GitRepo } from '../support/git-repo.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import {
  applyObjects, createRun, isDone, loadDocuments, readStatement, succeeded, supplyOutcomes, tektonNamespace, waitForRun, type Manifest, type TektonRun,
} from '../support/tekton-runs.ts';
import { trainedModel, type TrainedModel } from '../support/tekton-training.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const repo = join(import.meta.dirname, '..', '..');
const prefix = uniqueName('tekton-propagation');
const BUILDER_ID = 'https://slsa-ml.dev/operator/test';
const FORGED = {
  annotations: { 'slsa-ml.dev/signed': 'true', 'slsa-ml.dev/bundle': 'gs://elsewhere/forged.sigstore.json', 'slsa-ml.dev/seal': 'v1.forged' },
  labels: { 'slsa-ml.dev/provenance': 'signed' },
};

let keys: SigningKeys;
let operator: OperatorProcess;

/** tasks/train-model.yaml with the operator's keys added to its metadata. */
function forgedTask(): Manifest {
  const [task] = loadDocuments(join(repo, 'tasks', 'train-model.yaml'));
  assert.ok(task?.metadata);
  return {
    ...task,
    metadata: { ...task.metadata, annotations: { ...task.metadata.annotations, ...FORGED.annotations }, labels: { ...task.metadata.labels, ...FORGED.labels } },
  };
}

function taskRun(ns: string, name: string, taskRef: Record<string, unknown>): TektonRun {
  return {
    apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name, namespace: ns },
    spec: { taskRef, params: [{ name: 'format', value: 'pytorch_model.pth' }, { name: 'model-uri', value: `gs://${env.bucket}/${prefix}/${ns}/${name}` }] },
  };
}

const decided = (run: TektonRun): boolean => isDone(run) && run.metadata.annotations?.['slsa-ml.dev/seal'] !== 'v1.forged' && run.metadata.annotations?.['slsa-ml.dev/seal'] !== undefined;

/** The operator's own outcome: signed, its bundle next to the model, verified by `slsa-ml verify`, for this run. */
async function assertAttestedByOperator(run: TektonRun, model: TrainedModel | undefined): Promise<void> {
  assert.ok(model);
  const annotations = run.metadata.annotations ?? {};
  assert.equal(annotations['slsa-ml.dev/signed'], 'true', annotations['slsa-ml.dev/reason']);
  assert.equal(annotations['slsa-ml.dev/bundle'], `${model.uri}.sigstore.json`);
  assert.notEqual(annotations['slsa-ml.dev/seal'], FORGED.annotations['slsa-ml.dev/seal']);
  assert.equal(run.metadata.labels?.['slsa-ml.dev/provenance'], 'signed');
  const statement = await readStatement(env, `${model.uri}.sigstore.json`);
  assert.equal(statement.predicate.runDetails.metadata?.invocationId, run.metadata.uid);
  const verified = await cli(['verify', model.uri, '--key', keys.publicKeyPath, '--gcs-endpoint', env.gcsEndpoint, '--builder-id', BUILDER_ID]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
}

/** Which field manager last wrote an annotation (managedFields), e.g. tekton-controller-v1.9.0. */
function writerOf(run: TektonRun, annotation: string): string[] {
  const fields = (run.metadata as { managedFields?: Array<{ manager: string; fieldsV1?: { 'f:metadata'?: { 'f:annotations'?: Record<string, unknown> } } }> }).managedFields ?? [];
  return fields.filter((f) => f.fieldsV1?.['f:metadata']?.['f:annotations']?.[`f:${annotation}`] !== undefined).map((f) => f.manager);
}

async function bindReservedKeysPolicy(ns: string): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const docs = parseAllDocuments(readFileSync(join(repo, 'manifests', 'base', 'reserved-keys-policy.yaml'), 'utf8')).map((d) => d.toJS() as KubernetesObject);
  const policy = docs.find((d) => d.kind === 'ValidatingAdmissionPolicy');
  assert.ok(policy);
  await objects.patch(policy, undefined, undefined, 'slsa-ml-test', true, PatchStrategy.ServerSideApply);
  await objects.patch({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: `reserved-keys-${ns}` },
    spec: { policyName: 'slsa-ml-reserved-keys', validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } } },
  } as KubernetesObject, undefined, undefined, 'slsa-ml-test', true, PatchStrategy.ServerSideApply);
  // Policies take effect asynchronously: wait until a Task carrying the keys is refused.
  const probe = { ...forgedTask(), metadata: { ...forgedTask().metadata, name: 'probe', namespace: ns } };
  for (let i = 0; i < 100; i++) {
    const refused = await objects.create(probe).then(async () => { await objects.delete(probe); return false; }, (err: unknown) => err instanceof ApiException && err.code === 403);
    if (refused) return;
    await sleep(200);
  }
  assert.fail('the reserved-keys policy never took effect');
}

describe("a Task's metadata propagated by real Tekton onto its TaskRun", () => {
  let git: GitRepo;

  before(async () => {
    git = await localGitRepo({ 'train-model.yaml': stringify(forgedTask()) });
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
    operator = await startOperator(env, {
      allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
      signer: { kind: 'key', keyPath: keys.privateKeyPath },
      builderId: BUILDER_ID,
      leaderElection: { enabled: false },
    });
    await operator.ready();
  });

  after(async () => {
    await operator.stop('SIGTERM');
    await stopAllOperators();
    git.remove();
  });

  it('a Task carrying slsa-ml.dev/signed: "true" puts it on the run through Tekton, and the operator still attests the run with its own sealed outcome', async () => {
    const ns = await tektonNamespace(env, 'tekton-propagated');
    await applyObjects(admin, ns, [forgedTask()]);
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let model: TrainedModel | undefined;
    const runner = supplyOutcomes(env, ns, async (pod) => {
      await released;
      model = await trainedModel(env, pod);
      return model.outcomes;
    });
    try {
      await createRun(admin, ns, taskRun(ns, 'train', { name: 'train-model' }));
      // While it runs: Tekton itself has copied the Task's keys onto the TaskRun.
      const running = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: 'train' }, (r) => r.metadata.annotations?.['slsa-ml.dev/signed'] === 'true', { runner });
      assert.deepEqual(running.metadata.labels?.['slsa-ml.dev/provenance'], 'signed');
      assert.deepEqual(writerOf(running, 'slsa-ml.dev/signed'), ['tekton-controller-v1.9.0']);
      release();
      const run = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: 'train' }, decided, { runner });
      await assertAttestedByOperator(run, model);
      assert.deepEqual(runner.errors, []);
    } finally {
      release();
      await runner.stop();
    }
  });

  it('with the reserved-keys policy, such a Task resolved from git is refused by Tekton\'s dry-run validation: the run never starts, times out, and nothing is attested', async () => {
    const ns = await tektonNamespace(env, 'tekton-propagated-vap');
    await bindReservedKeysPolicy(ns);
    const runner = supplyOutcomes(env, ns, (pod) => assert.fail(`no Pod should start, got ${pod.name}`));
    try {
      const gitRef = { resolver: 'git', params: [{ name: 'url', value: git.url }, { name: 'revision', value: 'main' }, { name: 'pathInRepo', value: 'train-model.yaml' }] };
      await createRun(admin, ns, { ...taskRun(ns, 'train', gitRef), spec: { ...taskRun(ns, 'train', gitRef).spec, timeout: '5s' } });
      const run = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: 'train' }, isDone, { runner, timeoutMs: 60_000 });
      // Tekton treats the refusal as retryable and keeps resolving until the run's own timeout.
      assert.equal(succeeded(run)?.reason, 'TaskRunTimeout', JSON.stringify(succeeded(run)));
      assert.equal(run.status?.podName ?? '', '');
      assert.equal(run.metadata.annotations?.['slsa-ml.dev/signed'], undefined);
      assert.deepEqual(Object.keys(run.metadata.annotations ?? {}).filter((k) => k.startsWith('slsa-ml.dev/')), []);
      assert.deepEqual(runner.errors, []);
    } finally {
      await runner.stop();
    }
  });
});
