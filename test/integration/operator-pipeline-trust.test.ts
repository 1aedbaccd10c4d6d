// The tenant attacks of the TaskRun path, replayed on PipelineRuns through real Tekton: the tenant
// identity applies the Tasks and the Pipeline and creates the PipelineRun; its task Pods report
// whatever they like and write anything under the namespace's prefix. Every child result is
// tenant data: a forged digest, another namespace's model, a planted sibling and pre-set
// slsa-ml.dev/ values decide nothing, and nothing the tenant planted is touched. A child TaskRun
// pruned before the PipelineRun is attested fails the run by name: no provenance from partial data.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { bindPolicyToNamespace, deniedBy } from '../support/admission.ts';
import { bindTenant, testEnv, uniqueName } from '../harness/index.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { TASKS, pipeline, pipelineRun, playSteps, sha256, trainingPipeline, upload } from '../support/tekton-pipelines.ts';
import { applyObjects, createRun, isDone, readStatement, supplyOutcomes, tektonNamespace, waitForRun, type Manifest, type PodHandler, type TektonRun } from '../support/tekton-runs.ts';
import { stepEnv } from '../support/tekton-runs.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const tenant = env.kubeConfig('tenant');
const prefix = uniqueName('op-pipeline-trust');

let keys: SigningKeys;
let operator: OperatorProcess | undefined;

const CHILDREN_POLICY = /only the Tekton controller makes a TaskRun the child of a PipelineRun/;

const outcomeOf = (run: TektonRun): string | undefined => run.metadata.annotations?.['slsa-ml.dev/signed'];
const reasonOf = (run: TektonRun): string => run.metadata.annotations?.['slsa-ml.dev/reason'] ?? '';
const decided = (run: TektonRun): boolean => outcomeOf(run) !== undefined && run.metadata.annotations?.['slsa-ml.dev/seal'] !== undefined;

async function startOurOperator(extra: Record<string, unknown> = {}): Promise<OperatorProcess> {
  const started = await startOperator(env, {
    ...extra,
    // Each namespace may only claim models under its own prefix.
    allowedPrefixes: [`gs://${env.bucket}/${prefix}/{namespace}/`],
    storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
    signer: { kind: 'key', keyPath: keys.privateKeyPath },
    builderId: 'https://slsa-ml.dev/operator/test',
    leaderElection: { enabled: false },
  });
  await started.ready();
  return started;
}

interface TenantRun {
  readonly ns: string;
  readonly pr: TektonRun;
  readonly uploaded: Map<string, Buffer>;
}

/** As the tenant: applies the Tasks and Pipeline, creates the PipelineRun; Tekton runs it; `until` decides when to look. */
async function runAsTenant(hint: string, options: { handler?: (play: PodHandler, ns: string) => PodHandler; annotations?: Record<string, string>; until?: (run: TektonRun) => boolean; pipe?: Manifest } = {}): Promise<TenantRun> {
  const ns = await tektonNamespace(env, hint);
  await bindTenant(env, ns);
  const pipe: Manifest = options.pipe ?? trainingPipeline();
  await applyObjects(tenant, ns, [...TASKS, pipe]);
  const uploaded = new Map<string, Buffer>();
  const play = playSteps(env, uploaded);
  const runner = supplyOutcomes(env, ns, options.handler ? options.handler(play, ns) : play);
  try {
    const created = await createRun(tenant, ns, pipelineRun('train-pipeline', `gs://${env.bucket}/${prefix}/${ns}`, options.annotations ? { annotations: options.annotations } : {}));
    const ref = { kind: 'PipelineRun', namespace: ns, name: created.metadata.name } as const;
    await waitForRun(admin, ref, isDone, { runner, timeoutMs: 90_000 });
    const pr = await waitForRun(admin, ref, options.until ?? decided, { timeoutMs: 60_000 });
    return { ns, pr, uploaded };
  } finally {
    await runner.stop();
  }
}

async function contentOf(uri: string): Promise<Buffer | undefined> {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  const file = env.storageClient().bucket(match?.[1] ?? '').file(match?.[2] ?? '');
  return (await file.exists())[0] ? (await file.download())[0] : undefined;
}

async function childrenOf(ns: string, pr: string): Promise<TektonRun[]> {
  const list = await admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, labelSelector: `tekton.dev/pipelineRun=${pr}` }) as { items: TektonRun[] };
  return list.items;
}

describe('a hostile tenant against pipeline-level provenance', () => {
  before(async () => {
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
    operator = await startOurOperator();
  });

  after(async () => {
    await operator?.stop('SIGTERM');
    await stopAllOperators();
  });

  it('refuses a model whose reported digest is forged, and writes nothing beside it', async () => {
    const { pr, uploaded } = await runAsTenant('pl-forged', {
      handler: (play) => async (pod) => {
        const outcome = (await play(pod)) ?? {};
        if (pod.pipelineTask !== 'upload') return outcome;
        const reported = outcome.upload?.results?.model_ARTIFACT_OUTPUTS as Record<string, string>;
        return { upload: { results: { model_ARTIFACT_OUTPUTS: { ...reported, digest: `sha256:${'0'.repeat(64)}` } } } };
      },
    });
    assert.equal(outcomeOf(pr), 'failed');
    // The model is reported by the upload task and re-exported by the Pipeline: the reason names the first.
    assert.match(reasonOf(pr), /^DIGEST_MISMATCH: result model_ARTIFACT_OUTPUTS of PipelineRun train-pipeline-.*: reported sha256:0{64} but /);
    const [uri] = [...uploaded.keys()];
    assert.equal(await contentOf(`${uri ?? ''}.sigstore.json`), undefined);
  });

  it("refuses another namespace's model reported by a task, and attests nothing next to it", async () => {
    const victim = `gs://${env.bucket}/${prefix}/victim-ns/pytorch_model.pth`;
    await upload(env, victim, Buffer.from('the victim namespace model'));
    const { pr } = await runAsTenant('pl-prefix', {
      handler: (play) => async (pod) => {
        if (pod.pipelineTask !== 'upload') return play(pod);
        return { upload: { results: { model_ARTIFACT_OUTPUTS: { uri: victim, digest: `sha256:${sha256(Buffer.from('the victim namespace model'))}`, isBuildArtifact: 'true' } } } };
      },
    });
    assert.equal(outcomeOf(pr), 'failed');
    assert.match(reasonOf(pr), /^PREFIX_NOT_ALLOWED: .*victim-ns.*outside the allowed prefixes for namespace/);
    assert.equal(await contentOf(`${victim}.sigstore.json`), undefined);
  });

  it('refuses a provenance object the upload task planted beside its model, and leaves it byte for byte', async () => {
    const planted = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
    const { pr, uploaded } = await runAsTenant('pl-planted', {
      handler: (play) => async (pod) => {
        const outcome = (await play(pod)) ?? {};
        const uri = stepEnv(pod, 'upload', 'MODEL_URI');
        if (pod.pipelineTask === 'upload' && uri) await upload(env, `${uri}.sigstore.json`, planted);
        return outcome;
      },
    });
    assert.equal(outcomeOf(pr), 'failed');
    assert.match(reasonOf(pr), /^PROVENANCE_CONFLICT: /);
    const [uri] = [...uploaded.keys()];
    assert.deepEqual(await contentOf(`${uri ?? ''}.sigstore.json`), planted);
    assert.equal(await contentOf(`${uri ?? ''}.intoto.jsonl`), undefined, 'nothing else written');
  });

  it('takes pre-set slsa-ml.dev/ values on the PipelineRun (and what Tekton copies onto its TaskRuns) for nothing', async () => {
    const forged = { 'slsa-ml.dev/signed': 'true', 'slsa-ml.dev/bundle': 'gs://elsewhere/model.sigstore.json', 'slsa-ml.dev/seal': 'forged' };
    // Decided by the operator: a seal of its form (the forged values already carry an outcome and a seal).
    const { ns, pr, uploaded } = await runAsTenant('pl-preset', { annotations: forged, until: (run) => decided(run) && run.metadata.annotations?.['slsa-ml.dev/seal'] !== 'forged' });
    // Attested as any other run: the forged values replaced by the operator's sealed ones.
    assert.equal(outcomeOf(pr), 'true', reasonOf(pr));
    const [uri] = [...uploaded.keys()];
    assert.equal(pr.metadata.annotations?.['slsa-ml.dev/bundle'], `${uri ?? ''}.sigstore.json`);
    assert.notEqual(pr.metadata.annotations?.['slsa-ml.dev/seal'], 'forged');
    const statement = await readStatement(env, `${uri ?? ''}.sigstore.json`);
    assert.equal(statement.predicate.runDetails.metadata?.invocationId, pr.metadata.uid);
    // Tekton copied the PipelineRun's annotations onto its TaskRuns; the operator removes them there.
    for (const child of await childrenOf(ns, pr.metadata.name)) {
      const cleaned = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: child.metadata.name }, (t) => !Object.keys(t.metadata.annotations ?? {}).some((k) => k.startsWith('slsa-ml.dev/')), { timeoutMs: 30_000 });
      assert.equal(cleaned.metadata.labels?.['slsa-ml.dev/provenance'], undefined);
    }
  });

  it('after an upgrade from TaskRun-level attestation, adopts the provenance a child TaskRun already has: one provenance per model, the PipelineRun signed', async () => {
    await operator?.stop('SIGTERM');
    operator = await startOurOperator({ pipelineRuns: { enabled: false } });
    const { ns, pr, uploaded } = await runAsTenant('pl-upgrade', { until: () => true });
    const upload = (await childrenOf(ns, pr.metadata.name)).find((c) => c.metadata.labels?.['tekton.dev/pipelineTask'] === 'upload');
    assert.ok(upload);
    const child = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: upload.metadata.name }, decided, { timeoutMs: 30_000 });
    assert.equal(outcomeOf(child), 'true', reasonOf(child));
    const [uri] = [...uploaded.keys()];
    const before = await contentOf(`${uri ?? ''}.sigstore.json`);
    await operator.stop('SIGTERM');
    operator = await startOurOperator();
    const after = await waitForRun(admin, { kind: 'PipelineRun', namespace: ns, name: pr.metadata.name }, decided, { timeoutMs: 30_000 });
    assert.equal(outcomeOf(after), 'true', reasonOf(after));
    assert.equal(after.metadata.annotations?.['slsa-ml.dev/bundle'], `${uri ?? ''}.sigstore.json`);
    assert.deepEqual(await contentOf(`${uri ?? ''}.sigstore.json`), before, 'the TaskRun-level provenance stays the one provenance');
    const statement = await readStatement(env, `${uri ?? ''}.sigstore.json`);
    assert.equal(statement.predicate.runDetails.metadata?.invocationId, upload.metadata.uid);
  });

  it('admission: only the Tekton controller makes a TaskRun the child of a PipelineRun; pipelines still run and are signed under the policy', async () => {
    const ns = await tektonNamespace(env, 'pl-children-vap');
    await bindTenant(env, ns);
    const probe = { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'probe', namespace: ns, ownerReferences: [{ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: 'p', uid: '00000000-0000-4000-8000-000000000000', controller: true }] }, spec: { taskRef: { name: 'train' } } };
    await bindPolicyToNamespace(admin, 'pipeline-children-policy.yaml', ns, {
      attempt: () => KubernetesObjectApi.makeApiClient(tenant).create(probe),
      undo: () => admin.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, name: 'probe' }),
      message: CHILDREN_POLICY,
    });
    const pr = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: 'trusted-run', uid: '11111111-2222-4333-8444-555555555555', controller: true, blockOwnerDeletion: true };
    const forged = { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'trusted-run-train', namespace: ns, ownerReferences: [pr] }, spec: { taskRef: { name: 'train' } } };
    const objects = KubernetesObjectApi.makeApiClient(tenant);
    assert.equal(await deniedBy(objects.create(forged as KubernetesObject), CHILDREN_POLICY), 'Forbidden', 'created as a child');
    await objects.create({ ...forged, metadata: { name: 'plain', namespace: ns } });
    const adopt = { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'plain', namespace: ns, ownerReferences: [pr] } } as KubernetesObject;
    assert.equal(await deniedBy(objects.patch(adopt, undefined, undefined, 'tenant', true, PatchStrategy.ServerSideApply), CHILDREN_POLICY), 'Forbidden', 'made a child later');
    // Tekton's own children pass: the same pipeline, as the tenant starts it, is attested.
    await applyObjects(tenant, ns, [...TASKS, trainingPipeline()]);
    const uploaded = new Map<string, Buffer>();
    const runner = supplyOutcomes(env, ns, playSteps(env, uploaded));
    try {
      const created = await createRun(tenant, ns, pipelineRun('train-pipeline', `gs://${env.bucket}/${prefix}/${ns}`));
      const ref = { kind: 'PipelineRun', namespace: ns, name: created.metadata.name } as const;
      await waitForRun(admin, ref, isDone, { runner, timeoutMs: 90_000 });
      const done = await waitForRun(admin, ref, decided, { timeoutMs: 60_000 });
      assert.equal(outcomeOf(done), 'true', reasonOf(done));
    } finally {
      await runner.stop();
    }
  });

  it('without the policy, refuses a TaskRun the tenant re-created under a finished child\'s name with a forged owner', async () => {
    await operator?.stop('SIGTERM');
    operator = undefined;
    const { ns, pr } = await runAsTenant('pl-recreated', { until: () => true });
    const train = (await childrenOf(ns, pr.metadata.name)).find((c) => c.metadata.labels?.['tekton.dev/pipelineTask'] === 'train');
    assert.ok(train);
    const api = admin.makeApiClient(CustomObjectsApi);
    await api.deleteNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, name: train.metadata.name });
    // The API server records times to the second: the look-alike comes a second after the PipelineRun completed.
    await sleep(1100);
    const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pr.metadata.name, uid: pr.metadata.uid ?? '', controller: true };
    await createRun(tenant, ns, { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: train.metadata.name, ownerReferences: [owner] }, spec: { taskRef: { name: 'train' } } });
    operator = await startOurOperator();
    const after = await waitForRun(admin, { kind: 'PipelineRun', namespace: ns, name: pr.metadata.name }, decided, { timeoutMs: 60_000 });
    assert.equal(outcomeOf(after), 'failed');
    assert.match(reasonOf(after), new RegExp(`^CHILD_NOT_OWNED: pipeline task train \\(TaskRun ${train.metadata.name}\\) was created at .*, after the PipelineRun completed`));
  });

  it('marks a PipelineRun in which nothing reports a model quietly (skipped NO_MODEL_OUTPUT, no Event)', async () => {
    const evaluateOnly = pipeline({
      name: 'train-pipeline',
      reexport: false,
      tasks: [
        { name: 'fetch', taskRef: { name: 'fetch-source' }, params: [{ name: 'url', value: '$(params.git-url)' }] },
        { name: 'train', runAfter: ['fetch'], taskRef: { name: 'train' } },
        { name: 'evaluate', runAfter: ['train'], taskRef: { name: 'evaluate' } },
      ],
    });
    const { ns, pr } = await runAsTenant('pl-no-model', { pipe: evaluateOnly });
    assert.equal(outcomeOf(pr), 'skipped');
    assert.match(reasonOf(pr), /^NO_MODEL_OUTPUT: neither the PipelineRun nor any of its TaskRuns reports a model output/);
    const events = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${pr.metadata.name}` });
    assert.deepEqual(events.items.filter((e) => e.reportingComponent === 'slsa-ml.dev/operator').map((e) => e.reason), []);
  });

  it('with a label selector that the PipelineRun does not match, attests its selected TaskRuns on their own and leaves the PipelineRun alone', async () => {
    await operator?.stop('SIGTERM');
    operator = await startOurOperator({ labelSelector: 'team=vision' });
    const team = { 'team': 'vision' };
    // Tekton copies a Task's labels onto its TaskRuns: the Tasks are selected, the PipelineRun is not.
    const labelled = TASKS.map((t) => ({ ...t, metadata: { ...t.metadata, labels: team } }));
    const ns = await tektonNamespace(env, 'pl-selector');
    await bindTenant(env, ns);
    await applyObjects(tenant, ns, [...labelled, trainingPipeline()]);
    const uploaded = new Map<string, Buffer>();
    const runner = supplyOutcomes(env, ns, playSteps(env, uploaded));
    try {
      const created = await createRun(tenant, ns, pipelineRun('train-pipeline', `gs://${env.bucket}/${prefix}/${ns}`));
      await waitForRun(admin, { kind: 'PipelineRun', namespace: ns, name: created.metadata.name }, isDone, { runner, timeoutMs: 90_000 });
      const upload = (await childrenOf(ns, created.metadata.name)).find((c) => c.metadata.labels?.['tekton.dev/pipelineTask'] === 'upload');
      assert.ok(upload);
      const child = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: upload.metadata.name }, decided, { timeoutMs: 30_000 });
      assert.equal(outcomeOf(child), 'true', reasonOf(child));
      const statement = await readStatement(env, child.metadata.annotations?.['slsa-ml.dev/bundle'] ?? '');
      assert.equal(statement.predicate.buildDefinition.buildType, 'https://slsa-ml.dev/buildtypes/tekton-training/v1');
      const pr = await waitForRun(admin, { kind: 'PipelineRun', namespace: ns, name: created.metadata.name }, () => true);
      assert.equal(outcomeOf(pr), undefined);
      assert.deepEqual(pr.metadata.finalizers ?? [], [], 'never held');
    } finally {
      await runner.stop();
      await operator.stop('SIGTERM');
      operator = await startOurOperator();
    }
  });

  it('with pipelineRuns turned off, releases the finalizer it put on a running PipelineRun, and attests its TaskRuns on their own', async () => {
    let ns = '';
    let name = '';
    const { uploaded } = await runAsTenant('pl-turned-off', {
      handler: (play) => async (pod) => {
        if (pod.pipelineTask === 'upload') {
          ns = pod.namespace;
          name = pod.pipelineRun ?? '';
          await waitForRun(admin, { kind: 'PipelineRun', namespace: ns, name }, (r) => (r.metadata.finalizers ?? []).includes('slsa-ml.dev/provenance'), { timeoutMs: 30_000 });
          await operator?.stop('SIGTERM');
          operator = await startOurOperator({ pipelineRuns: { enabled: false } });
        }
        return play(pod);
      },
      until: () => true,
    });
    const pr = await waitForRun(admin, { kind: 'PipelineRun', namespace: ns, name }, (r) => !(r.metadata.finalizers ?? []).includes('slsa-ml.dev/provenance'), { timeoutMs: 30_000 });
    assert.equal(outcomeOf(pr), undefined);
    const upload = (await childrenOf(ns, name)).find((c) => c.metadata.labels?.['tekton.dev/pipelineTask'] === 'upload');
    const child = await waitForRun(admin, { kind: 'TaskRun', namespace: ns, name: upload?.metadata.name ?? '' }, decided, { timeoutMs: 30_000 });
    assert.equal(outcomeOf(child), 'true', reasonOf(child));
    assert.equal(child.metadata.annotations?.['slsa-ml.dev/bundle'], `${[...uploaded.keys()][0] ?? ''}.sigstore.json`);
    await operator?.stop('SIGTERM');
    operator = await startOurOperator();
  });

  it('fails a PipelineRun whose child TaskRun was pruned before it was attested, naming the child, and writes nothing', async () => {
    await operator?.stop('SIGTERM');
    operator = undefined;
    const { ns, pr, uploaded } = await runAsTenant('pl-pruned', { until: () => true });
    const evaluate = (await childrenOf(ns, pr.metadata.name)).find((c) => c.metadata.labels?.['tekton.dev/pipelineTask'] === 'evaluate');
    assert.ok(evaluate);
    await admin.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns, name: evaluate.metadata.name });
    operator = await startOurOperator();
    const after = await waitForRun(admin, { kind: 'PipelineRun', namespace: ns, name: pr.metadata.name }, decided, { timeoutMs: 60_000 });
    assert.equal(outcomeOf(after), 'failed');
    assert.match(reasonOf(after), new RegExp(`^CHILD_TASKRUN_MISSING: pipeline task evaluate \\(TaskRun ${evaluate.metadata.name}\\) no longer exists`));
    const [uri] = [...uploaded.keys()];
    assert.equal(await contentOf(`${uri ?? ''}.sigstore.json`), undefined);
  });
});
