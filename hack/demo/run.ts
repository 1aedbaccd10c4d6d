// npm run demo — slsa-ml end to end on one machine, no cloud: the local environment (with the
// real Tekton controller, kube-scheduler and fake GKE nodes), the real operator under its
// least-privilege identity, the train-pipeline Pipeline and its four Tasks applied with kubectl
// and a PipelineRun created from tasks/examples/pipelinerun-cpu.yaml, Tekton running it (fetch
// the source from this checkout, train, evaluate, upload: four TaskRuns whose Pods' steps run on
// this machine over one shared workspace), one signed provenance for the whole PipelineRun
// written next to the model, what it names (the commit fetched, each task's node pool, the
// PipelineRun as the invocation), then `slsa-ml verify` and cosign on it. What it runs is built
// on first use (hack/provision.sh). Everything it starts is stopped when it ends (`npm run demo
// -- --keep` leaves it all up until Ctrl-C; `-- --synthetic` runs a stand-in for the train,
// evaluate and upload tasks, and so never builds the training venv).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { TestEnv } from '../../test/harness/index.ts';
import { PodRunner } from '../env/pod-runner.ts';
import { provenanceLocations } from '../../src/layout/locations.ts';
import { generateSigningKeys, startOperator, type OperatorProcess, type SigningKeys } from '../../test/support/operator-process.ts';
import { isDone, succeeded, waitForRun, type TektonRun } from '../../test/support/tekton-runs.ts';
import { cleanup, cleanupOnSignals, interruptedExitCode, onCleanup } from './cleanup.ts';
import { cosignVerify } from './cosign.ts';
import { startDemoEnvironment } from './environment.ts';
import { demoRuntime } from './model.ts';
import { createPipelineRun, examplePipelineRun, PIPELINERUN_EXAMPLE, prepareNamespace } from './pipelinerun.ts';
import { showProvenance } from './provenance.ts';
import { demoItems, provision } from './provision.ts';
import { detail, say, stepTitle } from './say.ts';
import { demoSource, type DemoSource } from './source.ts';
import { trainingPython, writeTinyCifar } from './training.ts';
import { runVerify, verifyCommand } from './verify.ts';

const NAMESPACE = 'team-vision';
const BUILDER_ID = 'https://slsa-ml.dev/operator/local-demo';
// The example's model-base-uri, in the local bucket: the model lands under <it>/<PipelineRun name>/.
const PREFIX = 'models/cifar10';
const repo = join(import.meta.dirname, '..', '..');

function scratchDir(hint: string): string {
  const dir = mkdtempSync(join(tmpdir(), `slsa-ml-demo-${hint}-`));
  onCleanup(dir, () => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  return dir;
}

/** SIGTERM, and SIGKILL with its log if it has not exited within 5 s (it exits in well under a second; a SIGTERM just after it became leader has been seen to hang it). */
async function stopOperator(operator: OperatorProcess): Promise<void> {
  const timer = setTimeout(() => {
    console.error(`demo: the operator did not stop within 5 s of SIGTERM; killing it. Its output:\n${operator.output()}`);
    operator.child.kill('SIGKILL');
  }, 5_000);
  await operator.stop('SIGTERM');
  clearTimeout(timer);
  // startOperator wrote its config and the operator's kubeconfig (a token) into a directory of its own.
  const configPath = operator.child.spawnargs[operator.child.spawnargs.indexOf('--config') + 1];
  if (configPath && basename(dirname(configPath)).startsWith('slsa-ml-operator-')) rmSync(dirname(configPath), { recursive: true, force: true });
}

async function startEverything(): Promise<{ env: TestEnv; keys: SigningKeys; operator: OperatorProcess }> {
  stepTitle('Starting the local environment (etcd, kube-apiserver, Tekton, kube-scheduler, kwok nodes, fake-gcs-server)');
  const env = await startDemoEnvironment(`slsa-ml-demo-${randomBytes(3).toString('hex')}`);
  detail('kube-api', `${env.info.server} (${env.kubeVersion})`);
  detail('Tekton', `Pipelines ${env.info.tektonVersion} controller and resolvers (the real ones, built from their Go module)`);
  detail('nodes', `${env.info.nodes.length} fake GKE nodes run by kwok: ${env.info.nodes.join(', ')}`);
  detail('kubeconfig', `${env.kubeconfigPath} (contexts admin, restricted, operator, …)`);
  detail('GCS', `${env.gcsEndpoint} (fake-gcs-server), bucket ${env.bucket}`);
  detail('state', env.info.stateDir);
  say('   applied manifests/base/rbac.yaml: the operator runs with exactly those rights');

  stepTitle('Generating a local signing key (P-256)');
  const keys = generateSigningKeys();
  onCleanup(keys.dir, () => Promise.resolve(rmSync(keys.dir, { recursive: true, force: true })));
  detail('private', keys.privateKeyPath);
  detail('public', keys.publicKeyPath);

  stepTitle("Starting the operator (node operator/bin.ts operator) under the 'operator' identity");
  const operator = await startOperator(env, {
    allowedPrefixes: [`gs://${env.bucket}/models/`],
    storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
    signer: { kind: 'key', keyPath: keys.privateKeyPath },
    builderId: BUILDER_ID,
    leaderElection: { enabled: true, namespace: 'slsa-ml-system', leaseName: 'slsa-ml-operator' },
  });
  onCleanup('the operator', () => stopOperator(operator));
  await operator.ready();
  detail('metrics', `http://127.0.0.1:${operator.port}/metrics`);
  return { env, keys, operator };
}

/** The params this machine needs: this checkout as the source, the local bucket, and the tiny data set when it trains for real. */
async function runParams(env: TestEnv, source: DemoSource, python: string | undefined): Promise<Record<string, string>> {
  const params: Record<string, string> = { 'git-url': source.url, 'git-revision': source.commit, 'model-base-uri': `gs://${env.bucket}/${PREFIX}` };
  if (!python) return params;
  const archive = join(scratchDir('data'), 'cifar-10-python.tar.gz');
  const sha = await writeTinyCifar(python, archive);
  detail('data set', `${archive} (38 synthetic images in the CIFAR10 archive layout, sha256 ${sha})`);
  return { ...params, 'dataset-uri': `file://${archive}`, 'dataset-sha256': sha, epochs: '1', 'batch-size': '32' };
}

async function startPipelineRun(env: TestEnv, source: DemoSource, synthetic: boolean): Promise<{ name: string; python: string | undefined }> {
  stepTitle('Installing the train-pipeline Pipeline and its four Tasks, as an ML engineer does');
  await prepareNamespace(env, NAMESPACE, examplePipelineRun({}).serviceAccount);

  stepTitle(`Starting a training PipelineRun (${relative(repo, PIPELINERUN_EXAMPLE)})`);
  detail('source', `${source.url} at ${source.commit} (this checkout's HEAD): fetch-source clones it, and`);
  say('                train, evaluate and upload run the tasks/training of that commit (commit an edit to train with it)');
  if (source.uncommitted.length > 0) say(`   note: these uncommitted changes under tasks/training do not train: ${source.uncommitted.join(', ')}`);
  const python = synthetic ? undefined : await trainingPython();
  if (synthetic) say('   --synthetic: not training');
  else if (!python) say('   no training venv (`bash hack/install-tools.sh training` builds it: CPU torch + TensorFlow)');
  else say(`   training venv found (${python}); the train task will train one epoch of the project's CNN with PyTorch`);
  const params = await runParams(env, source, python);
  const name = await createPipelineRun(env, NAMESPACE, examplePipelineRun(params), Object.keys(params));
  detail('PipelineRun', `${NAMESPACE}/${name}`);
  return { name, python };
}

const resultsOf = (run: TektonRun): Array<{ name: string; value: unknown }> => (run.status?.results ?? []) as Array<{ name: string; value: unknown }>;

async function childTaskRuns(env: TestEnv, pipelineRun: string): Promise<TektonRun[]> {
  const list = await env.kubeConfig('admin').makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: NAMESPACE, labelSelector: `tekton.dev/pipelineRun=${pipelineRun}`,
  }) as { items: TektonRun[] };
  const started = (t: TektonRun): string => (typeof t.status?.startTime === 'string' ? t.status.startTime : '');
  return list.items.sort((a, b) => started(a).localeCompare(started(b)));
}

async function runWithTekton(env: TestEnv, name: string, python: string | undefined): Promise<void> {
  stepTitle('Tekton runs it: a TaskRun and a Pod per task, kube-scheduler places each Pod on the CPU pool, its steps run here');
  const pods = scratchDir('pods');
  detail('step runs', `${pods} (the Pods' own files, and the PipelineRun's workspace its Pods share: ${NAMESPACE}/pipelinerun-${name}/workspaces/shared)`);
  const runtime = demoRuntime(env, python, pods);
  const runner = new PodRunner(env.kubeConfig('admin'), NAMESPACE, runtime.handler).start();
  onCleanup('the step runtime', async () => { runtime.stop(); await runner.stop(); });
  const ref = { kind: 'PipelineRun', namespace: NAMESPACE, name } as const;
  const pr = await waitForRun(env.kubeConfig('admin'), ref, isDone, { timeoutMs: 300_000, runner });
  await reportRun(env, pr);
}

const taskRunLine = (tr: TektonRun): string => {
  const condition = succeeded(tr);
  const outcome = condition?.status === 'True' ? condition.reason : `${condition?.reason ?? '?'}: ${condition?.message ?? ''}`;
  return `${tr.metadata.name} (task ${tr.metadata.labels?.['tekton.dev/pipelineTask'] ?? '?'}): ${outcome ?? '?'}`;
};

/** What Tekton wrote: each TaskRun's outcome, the PipelineRun's condition and results. */
async function reportRun(env: TestEnv, pr: TektonRun): Promise<void> {
  say('');
  for (const tr of await childTaskRuns(env, pr.metadata.name)) detail('TaskRun', taskRunLine(tr));
  const condition = succeeded(pr);
  detail('PipelineRun', `${condition?.reason ?? '?'}: ${condition?.message ?? ''} (status written by the Tekton controller)`);
  if (condition?.status !== 'True') throw new Error(`the PipelineRun did not succeed: ${JSON.stringify(pr.status?.conditions)}`);
  for (const r of resultsOf(pr)) detail('result', `${r.name} = ${JSON.stringify(r.value)}`);
}

async function attest(env: TestEnv, operator: OperatorProcess, name: string): Promise<{ uri: string; bundle: string; pipelineRun: TektonRun }> {
  stepTitle('Waiting for the operator to attest the PipelineRun: read every TaskRun, measure the model, sign, store');
  const ref = { kind: 'PipelineRun', namespace: NAMESPACE, name } as const;
  const signed = await waitForRun(env.kubeConfig('admin'), ref, (r) => r.metadata.annotations?.['slsa-ml.dev/signed'] !== undefined, { timeoutMs: 45_000 })
    .catch((err: unknown) => { throw new Error(`${String(err)}\noperator output:\n${operator.output()}`); });
  const annotations = signed.metadata.annotations ?? {};
  if (annotations['slsa-ml.dev/signed'] !== 'true') throw new Error(`the operator did not sign: ${annotations['slsa-ml.dev/reason'] ?? '?'}\n${operator.output()}`);
  const uri = (resultsOf(signed).find((r) => r.name === 'model_ARTIFACT_OUTPUTS')?.value as { uri?: string } | undefined)?.uri ?? '';
  const bundle = annotations['slsa-ml.dev/bundle'] ?? '';
  detail('bundle', bundle);
  detail('envelope', `${uri}.intoto.jsonl`);
  detail('PipelineRun', `annotated slsa-ml.dev/signed=true, labelled slsa-ml.dev/provenance=${signed.metadata.labels?.['slsa-ml.dev/provenance'] ?? '?'}`);
  const marked = (await childTaskRuns(env, name)).filter((t) => t.metadata.annotations?.['slsa-ml.dev/signed'] !== undefined);
  detail('TaskRuns', marked.length === 0 ? 'no outcome on any of them: the PipelineRun is attested as one run' : `annotated as well: ${marked.map((t) => t.metadata.name).join(', ')}`);
  return { uri, bundle, pipelineRun: signed };
}

async function verifyModel(env: TestEnv, keys: SigningKeys, uri: string, source: DemoSource): Promise<number | null> {
  stepTitle('Verifying the model against its provenance, as a model consumer would');
  const args = [uri, '--key', keys.publicKeyPath, '--gcs-endpoint', env.gcsEndpoint, '--builder-id', BUILDER_ID, '--namespace', NAMESPACE,
    '--source-repo', source.url, '--source-ref', source.commit];
  say(`   $ ${verifyCommand(args)}`);
  return runVerify(args);
}

function whereEverythingIs(env: TestEnv, keys: SigningKeys, operator: OperatorProcess, uri: string, pipelineRun: string): void {
  stepTitle('Where everything is');
  detail('model', uri);
  const where = provenanceLocations(uri);
  detail('provenance', `${where.bundle}, ${where.envelope}`);
  detail('model signature', `${where.signature} (OpenSSF model-signing: model_signing verify key --signature … --public_key …)`);
  detail('public key', keys.publicKeyPath);
  detail('PipelineRun', `KUBECONFIG=${env.kubeconfigPath} kubectl --context admin -n ${NAMESPACE} get pipelinerun ${pipelineRun} -o yaml`);
  detail('TaskRuns', `KUBECONFIG=${env.kubeconfigPath} kubectl --context admin -n ${NAMESPACE} get taskruns -l tekton.dev/pipelineRun=${pipelineRun}`);
  detail('GCS', `${env.gcsEndpoint}/storage/v1/b/${env.bucket}/o (fake-gcs-server JSON API)`);
  detail('operator', `http://127.0.0.1:${operator.port}/metrics`);
}

async function main(keep: boolean, synthetic: boolean): Promise<number> {
  // The pipeline clones this checkout: without git there is nothing to run, so say so before starting anything.
  const source = await demoSource();
  await provision(demoItems(synthetic));
  const { env, keys, operator } = await startEverything();
  const { name, python } = await startPipelineRun(env, source, synthetic);
  await runWithTekton(env, name, python);
  const { uri, bundle, pipelineRun } = await attest(env, operator, name);
  await showProvenance(env, bundle, pipelineRun);
  const code = await verifyModel(env, keys, uri, source);
  stepTitle('Cross-checking with cosign');
  const cosignOk = await cosignVerify(env, keys.publicKeyPath, uri, scratchDir('cosign'));
  whereEverythingIs(env, keys, operator, uri, name);
  const ok = code === 0 && cosignOk !== false;
  say(ok ? "\nDEMO PASSED: the operator attested the pipeline's model and it verified" : `\nDEMO FAILED: slsa-ml verify exited ${String(code)}, cosign ${String(cosignOk)}`);
  if (keep) {
    say('--keep: everything stays up until Ctrl-C');
    // The signal handler stops everything and exits; the timer only keeps Node waiting for it.
    await new Promise<never>(() => setInterval(() => undefined, 60_000));
  }
  say('stopping the operator and the environment; temporary files are removed (--keep leaves them up)');
  return ok ? 0 : 1;
}

const USAGE = 'usage: npm run demo [-- --keep] [-- --synthetic]';

function flags(): { keep: boolean; synthetic: boolean } {
  try {
    const { values } = parseArgs({ options: { keep: { type: 'boolean' }, synthetic: { type: 'boolean' }, help: { type: 'boolean' } } });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    return { keep: values.keep ?? false, synthetic: values.synthetic ?? false };
  } catch (err) {
    console.error(`demo: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
}

const options = flags();
cleanupOnSignals();
let exitCode = 1;
try {
  exitCode = await main(options.keep, options.synthetic);
} catch (err) {
  if (interruptedExitCode() === undefined) console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  await cleanup();
}
process.exit(interruptedExitCode() ?? exitCode);
