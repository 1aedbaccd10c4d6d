// npm run demo — slsa-ml end to end on one machine, no cloud: the local environment, the real
// operator under its least-privilege identity, a training run, signed provenance written next
// to the model, `slsa-ml verify` and cosign on it. Everything it starts is stopped when it ends
// (`npm run demo -- --keep` leaves it all up until Ctrl-C; `-- --synthetic` skips training even
// when the training venv exists).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TestEnv } from '../../test/harness/index.ts';
import { generateSigningKeys, startOperator, type OperatorProcess, type SigningKeys } from '../../test/support/operator-process.ts';
import { outcomeOf, waitForTaskRun } from '../../test/support/training-run.ts';
import { cleanup, cleanupOnSignals, interruptedExitCode, onCleanup } from './cleanup.ts';
import { cosignVerify } from './cosign.ts';
import { startDemoEnvironment } from './environment.ts';
import { produceModel } from './model.ts';
import { detail, say, stepTitle } from './say.ts';
import { recordFinishedTaskRun } from './taskrun.ts';
import { runVerify, verifyCommand } from './verify.ts';

const NAMESPACE = 'team-vision';
const TASKRUN = 'train-cifar10-demo';
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
  stepTitle('Starting the local environment (etcd, kube-apiserver with the Tekton CRDs, fake-gcs-server)');
  const env = await startDemoEnvironment(`slsa-ml-demo-${randomBytes(3).toString('hex')}`);
  detail('kube-api', `${env.info.server} (${env.kubeVersion}, Tekton ${env.info.tektonVersion} CRDs)`);
  detail('kubeconfig', `${env.kubeconfigPath} (contexts admin, restricted, operator)`);
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

async function trainAndAttest(env: TestEnv, operator: OperatorProcess, synthetic: boolean): Promise<string> {
  stepTitle('Training: what the train step of the train-model Task does');
  const model = await produceModel(env, PREFIX, scratchDir('work'), synthetic);
  detail('model', model.uri);

  stepTitle('Recording the TaskRun and its completion');
  say('   there is no kubelet or Tekton controller here: the demo writes the TaskRun, its Pod and');
  say('   Node, and the finished status with the step results, as the Tekton controller would');
  const admin = env.kubeConfig('admin');
  await recordFinishedTaskRun(admin, NAMESPACE, TASKRUN, model.results);
  detail('TaskRun', `${NAMESPACE}/${TASKRUN}`);

  stepTitle('Waiting for the operator to measure, sign and store the provenance');
  const tr = await waitForTaskRun(admin, NAMESPACE, TASKRUN, (t) => outcomeOf(t) !== undefined, 45_000)
    .catch((err: unknown) => { throw new Error(`${String(err)}\noperator output:\n${operator.output()}`); });
  const annotations = tr.metadata.annotations ?? {};
  if (outcomeOf(tr) !== 'true') throw new Error(`the operator did not sign: ${annotations['slsa-ml.dev/reason'] ?? '?'}\n${operator.output()}`);
  detail('bundle', annotations['slsa-ml.dev/bundle'] ?? '?');
  detail('envelope', `${model.uri}.intoto.jsonl`);
  detail('TaskRun', `annotated slsa-ml.dev/signed=true, labelled slsa-ml.dev/provenance=${tr.metadata.labels?.['slsa-ml.dev/provenance'] ?? '?'}`);
  return model.uri;
}

async function verifyModel(env: TestEnv, keys: SigningKeys, uri: string): Promise<number | null> {
  stepTitle('Verifying the model against its provenance, as a model consumer would');
  const args = [uri, '--key', keys.publicKeyPath, '--gcs-endpoint', env.gcsEndpoint, '--builder-id', BUILDER_ID, '--namespace', NAMESPACE];
  say(`   $ ${verifyCommand(args)}`);
  return runVerify(args);
}

function whereEverythingIs(env: TestEnv, keys: SigningKeys, operator: OperatorProcess, uri: string): void {
  stepTitle('Where everything is');
  detail('model', uri);
  detail('provenance', `${uri}.sigstore.json, ${uri}.intoto.jsonl`);
  detail('public key', keys.publicKeyPath);
  detail('TaskRun', `KUBECONFIG=${env.kubeconfigPath} kubectl --context admin -n ${NAMESPACE} get taskrun ${TASKRUN} -o yaml`);
  detail('GCS', `${env.gcsEndpoint}/storage/v1/b/${env.bucket}/o (fake-gcs-server JSON API)`);
  detail('operator', `http://127.0.0.1:${operator.port}/metrics`);
}

async function main(keep: boolean, synthetic: boolean): Promise<number> {
  const { env, keys, operator } = await startEverything();
  const uri = await trainAndAttest(env, operator, synthetic);
  const code = await verifyModel(env, keys, uri);
  stepTitle('Cross-checking with cosign');
  const cosignOk = await cosignVerify(env, keys.publicKeyPath, uri, scratchDir('cosign'));
  whereEverythingIs(env, keys, operator, uri);
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
