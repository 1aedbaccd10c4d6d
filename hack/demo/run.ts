// npm run demo — slsa-ml end to end on one machine, no cloud: the local environment (with the
// real Tekton controller, kube-scheduler and fake GKE nodes), the real operator under its
// least-privilege identity, the train-model Task and a TaskRun applied with kubectl, Tekton
// running it (its Pod's steps run on this machine), signed provenance written next to the
// model, `slsa-ml verify` and cosign on it. What it runs is built on first use (hack/provision.sh).
// Everything it starts is stopped when it ends (`npm run demo -- --keep` leaves it all up until
// Ctrl-C; `-- --synthetic` skips training, and so never builds the training venv).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TestEnv } from '../../test/harness/index.ts';
import { PodRunner } from '../env/pod-runner.ts';
import { generateSigningKeys, startOperator, type OperatorProcess, type SigningKeys } from '../../test/support/operator-process.ts';
import { outcomeOf, waitForTaskRun } from '../../test/support/training-run.ts';
import type { TaskRunObject } from '../../test/support/tekton.ts';
import { cleanup, cleanupOnSignals, interruptedExitCode, onCleanup } from './cleanup.ts';
import { cosignVerify } from './cosign.ts';
import { startDemoEnvironment } from './environment.ts';
import { demoRuntime } from './model.ts';
import { demoItems, provision } from './provision.ts';
import { detail, say, stepTitle } from './say.ts';
import { createTaskRun, exampleTaskRun, prepareNamespace } from './taskrun.ts';
import { trainingPython, writeTinyCifar } from './training.ts';
import { runVerify, verifyCommand } from './verify.ts';

const NAMESPACE = 'team-vision';
const BUILDER_ID = 'https://slsa-ml.dev/operator/local-demo';
const PREFIX = 'models/cifar10/demo-run-1';

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
    storage: { gcs: { apiEndpoint: env.gcsEndpoint, projectId: 'slsa-ml-demo' } },
    signer: { kind: 'key', keyPath: keys.privateKeyPath },
    builderId: BUILDER_ID,
    leaderElection: { enabled: true, namespace: 'slsa-ml-system', leaseName: 'slsa-ml-operator' },
  });
  onCleanup('the operator', () => stopOperator(operator));
  await operator.ready();
  detail('metrics', `http://127.0.0.1:${operator.port}/metrics`);
  return { env, keys, operator };
}

/** The params this machine needs: the local bucket, and the tiny data set when it trains for real. */
async function runParams(env: TestEnv, python: string | undefined): Promise<Record<string, string>> {
  const params: Record<string, string> = { 'model-uri': `gs://${env.bucket}/${PREFIX}` };
  if (!python) return params;
  const archive = join(scratchDir('data'), 'cifar-10-python.tar.gz');
  const sha = await writeTinyCifar(python, archive);
  detail('data set', `${archive} (38 synthetic images in the CIFAR10 archive layout, sha256 ${sha})`);
  return { ...params, 'dataset-uri': `file://${archive}`, 'dataset-sha256': sha, epochs: '1', 'batch-size': '32' };
}

async function startTaskRun(env: TestEnv, synthetic: boolean): Promise<{ name: string; python: string | undefined }> {
  stepTitle('Installing the train-model Task, as an ML engineer does');
  await prepareNamespace(env, NAMESPACE, exampleTaskRun({}).serviceAccount);

  stepTitle('Starting a training TaskRun (tasks/examples/taskrun-cpu.yaml)');
  const python = synthetic ? undefined : await trainingPython();
  if (synthetic) say('   --synthetic: not training');
  else if (!python) say('   no training venv (`bash hack/install-tools.sh training` builds it: CPU torch + TensorFlow)');
  else say(`   training venv found (${python}); the train step will train one step of the project's CNN with PyTorch`);
  const params = await runParams(env, python);
  const name = await createTaskRun(env, NAMESPACE, exampleTaskRun(params).yaml, Object.keys(params));
  detail('TaskRun', `${NAMESPACE}/${name}`);
  return { name, python };
}

const conditionOf = (t: TaskRunObject): { status: string; reason?: string; message?: string } | undefined =>
  (t.status?.conditions as Array<{ type: string; status: string; reason?: string; message?: string }> | undefined)?.find((c) => c.type === 'Succeeded');

async function runWithTekton(env: TestEnv, name: string, python: string | undefined): Promise<TaskRunObject> {
  stepTitle('Tekton runs it: it creates the Pod, kube-scheduler places it on the CPU pool, its steps run');
  const runtime = demoRuntime(env, python, scratchDir('pods'));
  const runner = new PodRunner(env.kubeConfig('admin'), NAMESPACE, runtime.handler).start();
  onCleanup('the step runtime', async () => { runtime.stop(); await runner.stop(); });
  const done = (t: TaskRunObject): boolean => ['True', 'False'].includes(conditionOf(t)?.status ?? '') || runner.errors.length > 0;
  const tr = await waitForTaskRun(env.kubeConfig('admin'), NAMESPACE, name, done, 300_000);
  if (runner.errors.length > 0) throw new Error(`running the Pod's steps failed: ${runner.errors.map(String).join('; ')}`);
  const condition = conditionOf(tr);
  detail('TaskRun', `${condition?.reason ?? '?'}: ${condition?.message ?? ''} (status written by the Tekton controller)`);
  if (condition?.status !== 'True') throw new Error(`the TaskRun did not succeed: ${JSON.stringify(tr.status?.conditions)}`);
  for (const r of (tr.status?.results ?? []) as Array<{ name: string; value: unknown }>) detail('result', `${r.name} = ${JSON.stringify(r.value)}`);
  return tr;
}

async function attest(env: TestEnv, operator: OperatorProcess, tr: TaskRunObject): Promise<string> {
  stepTitle('Waiting for the operator to measure, sign and store the provenance');
  const admin = env.kubeConfig('admin');
  const signed = await waitForTaskRun(admin, NAMESPACE, tr.metadata.name, (t) => outcomeOf(t) !== undefined, 45_000)
    .catch((err: unknown) => { throw new Error(`${String(err)}\noperator output:\n${operator.output()}`); });
  const annotations = signed.metadata.annotations ?? {};
  if (outcomeOf(signed) !== 'true') throw new Error(`the operator did not sign: ${annotations['slsa-ml.dev/reason'] ?? '?'}\n${operator.output()}`);
  const model = ((signed.status?.results ?? []) as Array<{ name: string; value: { uri?: string } }>).find((r) => r.name === 'model_ARTIFACT_OUTPUTS')?.value.uri ?? '';
  detail('bundle', annotations['slsa-ml.dev/bundle'] ?? '?');
  detail('envelope', `${model}.intoto.jsonl`);
  detail('TaskRun', `annotated slsa-ml.dev/signed=true, labelled slsa-ml.dev/provenance=${signed.metadata.labels?.['slsa-ml.dev/provenance'] ?? '?'}`);
  return model;
}

async function verifyModel(env: TestEnv, keys: SigningKeys, uri: string): Promise<number | null> {
  stepTitle('Verifying the model against its provenance, as a model consumer would');
  const args = [uri, '--key', keys.publicKeyPath, '--gcs-endpoint', env.gcsEndpoint, '--builder-id', BUILDER_ID, '--namespace', NAMESPACE];
  say(`   $ ${verifyCommand(args)}`);
  return runVerify(args);
}

function whereEverythingIs(env: TestEnv, keys: SigningKeys, operator: OperatorProcess, uri: string, taskRun: string): void {
  stepTitle('Where everything is');
  detail('model', uri);
  detail('provenance', `${uri}.sigstore.json, ${uri}.intoto.jsonl`);
  detail('public key', keys.publicKeyPath);
  detail('TaskRun', `KUBECONFIG=${env.kubeconfigPath} kubectl --context admin -n ${NAMESPACE} get taskrun ${taskRun} -o yaml`);
  detail('GCS', `${env.gcsEndpoint}/storage/v1/b/${env.bucket}/o (fake-gcs-server JSON API)`);
  detail('operator', `http://127.0.0.1:${operator.port}/metrics`);
}

async function main(keep: boolean, synthetic: boolean): Promise<number> {
  await provision(demoItems(synthetic));
  const { env, keys, operator } = await startEverything();
  const { name, python } = await startTaskRun(env, synthetic);
  const tr = await runWithTekton(env, name, python);
  const uri = await attest(env, operator, tr);
  const code = await verifyModel(env, keys, uri);
  stepTitle('Cross-checking with cosign');
  const cosignOk = await cosignVerify(env, keys.publicKeyPath, uri, scratchDir('cosign'));
  whereEverythingIs(env, keys, operator, uri, tr.metadata.name);
  const ok = code === 0 && cosignOk !== false;
  say(ok ? '\nDEMO PASSED: the operator attested the model and it verified' : `\nDEMO FAILED: slsa-ml verify exited ${String(code)}, cosign ${String(cosignOk)}`);
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
