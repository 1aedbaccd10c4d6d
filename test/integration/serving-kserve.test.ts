// The serving gate for KServe (manifests/serving). First against KServe v0.15.2's own CRDs: the
// ClusterStorageContainer of a release's serving.yaml (hack/render-release.sh, a sample image digest)
// and the example InferenceService through the real kube-apiserver; the storage initializer built
// from them as KServe's injector builds it (its init container with the ClusterStorageContainer's
// container merged over it by Kubernetes' strategic merge) and run as a local process with the real
// executable against fake GCS, on models made and attested by `slsa-ml attest`. Then through KServe
// itself: its controller manager built from its Go module (RawDeployment mode, its release RBAC as
// its own ServiceAccount, its Pod mutator as a real admission webhook), kube-controller-manager's
// Deployment and ReplicaSet controllers making the predictor Pods, kube-scheduler placing them, and
// hack/env/init-container-runner.ts running the injected storage initializer as the kubelet would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';

import { InitContainerRunner } from '../../hack/env/init-container-runner.ts';
import { startKubeControllerManager, waitControllerManagerReady, type ControllerManagerHandle } from '../../hack/env/kube-controller-manager.ts';
import { removeKserve, startKserveController, type KserveHandle } from '../../hack/env/kserve-controller.ts';
import { stopGroup, tail } from '../../hack/env/processes.ts';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { newNamespace, testEnv, uniqueName } from '../harness/index.ts';
import { BUILDER_ID, cli, hasStackTrace, taskRunFor, writeKeyPair, type KeyFiles, type RunFacts } from '../support/cli.ts';
import { makeTestTls } from '../support/tls.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const SAMPLE_IMAGE = `ghcr.io/slsa-ml/slsa-ml@sha256:${'5e'.repeat(32)}`;
/** KServe's constants.DefaultModelLocalMountPath: DEST as KServe gives it. */
const MODEL_MOUNT = '/mnt/models';
const DENY = 'pkg:pypi/torch@<2.6.0';

interface ClusterStorageContainer {
  kind: string;
  metadata: { name: string };
  spec: { container: V1Container; supportedUriFormats: Array<{ prefix?: string; regex?: string }>; workloadType?: string };
}

interface Result { code: number; out: string }

async function command(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, args, { env, maxBuffer: 16 << 20 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function ok(result: Promise<Result>): Promise<string> {
  const { code, out } = await result;
  assert.equal(code, 0, out);
  return out;
}

const kubectlPath = (): string => requireTool(toolPaths().kubectl, 'kubectl');
const kubectl = (args: readonly string[]): Promise<Result> => command(kubectlPath(), ['--kubeconfig', testEnv().kubeconfigPath, '--context', 'admin', ...args]);

function documents<T>(text: string): T[] {
  return parseAllDocuments(text, { version: '1.1' }).map((doc) => {
    assert.deepEqual(doc.errors, []);
    return doc.toJS() as T;
  });
}

let scratch: string;
let servingYaml: string;
let csc: ClusterStorageContainer;
let key: KeyFiles;

before(async () => {
  // An environment started before KServe's CRDs were part of it has none (an env.json without the key).
  const crds: readonly string[] | undefined = testEnv().info.kserveCrds;
  assert.ok(crds?.includes('clusterstoragecontainers.serving.kserve.io'),
    'the running environment has no KServe CRDs (started before they were part of it): restart it, npm run env:down && npm run env:up');
  scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-serving-'));
  key = await writeKeyPair(scratch, 'cosign');
  const assets = join(scratch, 'release');
  await ok(command('bash', [join(repo, 'hack', 'render-release.sh'), SAMPLE_IMAGE, assets], { ...process.env, KUBECTL: kubectlPath() }));
  servingYaml = join(assets, 'serving.yaml');
  const docs = documents<ClusterStorageContainer>(await readFile(servingYaml, 'utf8'));
  assert.deepEqual(docs.map((d) => d.kind), ['ClusterStorageContainer']);
  csc = docs[0] as ClusterStorageContainer;
});
after(() => rm(scratch, { recursive: true, force: true }));

describe("a release's serving.yaml and the example InferenceService, against KServe's CRDs", () => {
  it('serving.yaml is the ClusterStorageContainer of manifests/serving with only the image pinned by digest', async () => {
    const source = documents<ClusterStorageContainer>(await readFile(join(repo, 'manifests', 'serving', 'cluster-storage-container.yaml'), 'utf8'));
    assert.equal(source.length, 1);
    const expected = structuredClone(source[0]) as ClusterStorageContainer;
    expected.spec.container.image = SAMPLE_IMAGE;
    assert.deepEqual(csc, expected);
    assert.match(await readFile(servingYaml, 'utf8'), /^# slsa-ml \d+\.\d+\.\d+\S*: the serving gate for KServe/);
  });

  it('the API server accepts it and keeps every field (server-side dry run, strict field validation)', async () => {
    const out = await ok(kubectl(['apply', '--server-side', '--field-manager', 'slsa-ml-test', '--dry-run=server', '--validate=strict', '-o', 'json', '-f', servingYaml]));
    const applied = JSON.parse(out) as ClusterStorageContainer;
    // A structural schema drops what it does not know: everything must come back as sent.
    assert.deepEqual(applied.spec, csc.spec);
  });

  it("the CRD really validates: a container without a name, or a URI format that is not a list, is refused", async () => {
    for (const [field, mutate] of [
      ['spec.container.name', (c: ClusterStorageContainer) => { delete (c.spec.container as { name?: string }).name; }],
      ['spec.supportedUriFormats', (c: ClusterStorageContainer) => { (c.spec as unknown as Record<string, unknown>).supportedUriFormats = 'gs://'; }],
    ] as const) {
      const bad = structuredClone(csc);
      mutate(bad);
      const file = join(scratch, `bad-${uniqueName('csc')}.yaml`);
      await writeFile(file, stringify(bad));
      const { code, out } = await kubectl(['apply', '--server-side', '--field-manager', 'slsa-ml-test', '--dry-run=server', '-f', file]);
      assert.notEqual(code, 0, out);
      assert.ok(out.includes(field), `the refusal names ${field}: ${out}`);
    }
  });

  it("the example InferenceService is accepted, and its storageUri is one this ClusterStorageContainer serves", async () => {
    const ns = await newNamespace(testEnv(), 'kserve-isvc');
    const example = join(repo, 'manifests', 'serving', 'examples', 'inferenceservice.yaml');
    const out = await ok(kubectl(['-n', ns, 'apply', '--server-side', '--field-manager', 'slsa-ml-test', '--dry-run=server', '--validate=strict', '-o', 'json', '-f', example]));
    const isvc = JSON.parse(out) as { spec: { predictor: { serviceAccountName?: string; model?: { modelFormat?: { name?: string }; storageUri?: string } } } };
    const [sent] = documents<{ spec: unknown }>(await readFile(example, 'utf8'));
    assert.deepEqual(isvc.spec, sent?.spec, 'nothing pruned');
    const model = isvc.spec.predictor.model;
    assert.equal(model?.modelFormat?.name, 'pytorch');
    assert.match(model?.storageUri ?? '', /^gs:\/\//);
    assert.equal(isvc.spec.predictor.serviceAccountName, 'model-reader');
    assert.ok(servedBy(csc, model?.storageUri ?? ''));
  });
});

/** KServe's StorageContainerSpec.IsStorageUriSupported: any prefix, or any regex (unanchored). */
function servedBy(c: ClusterStorageContainer, uri: string): boolean {
  return c.spec.supportedUriFormats.some((f) => (f.prefix ? uri.startsWith(f.prefix) : f.regex ? new RegExp(f.regex).test(uri) : false));
}

/**
 * The init container KServe's pod mutator injects for `uri` (InjectStorageInitializer, v0.15.2): its
 * own container — the ConfigMap's default image and resources, args [uri, /mnt/models], the
 * shared volume, TerminationMessagePolicy FallbackToLogsOnError — and then the matching
 * ClusterStorageContainer's container merged over it with a strategic merge patch
 * (mergeContainerSpecs). kubectl's strategic merge of the Pod's initContainers (merged by name) is
 * that same merge on the same Container schema.
 */
async function kserveInitContainer(uri: string, storageContainer: ClusterStorageContainer): Promise<V1Container> {
  assert.equal(storageContainer.spec.workloadType, 'initContainer');
  assert.ok(servedBy(storageContainer, uri), `${uri} is served by ${storageContainer.metadata.name}`);
  const injected: V1Container = {
    name: 'storage-initializer',
    image: 'kserve/storage-initializer:latest',
    args: [uri, MODEL_MOUNT],
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [{ name: 'kserve-provision-location', mountPath: MODEL_MOUNT }],
    resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m', memory: '100Mi' } },
  };
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'predictor' }, spec: { containers: [{ name: 'kserve-container', image: 'pytorch/torchserve' }], initContainers: [injected] } };
  const file = join(scratch, `${uniqueName('pod')}.json`);
  await writeFile(file, JSON.stringify(pod));
  const patch = JSON.stringify({ spec: { initContainers: [storageContainer.spec.container] } });
  const out = await ok(command(kubectlPath(), ['patch', '--local', '-f', file, '--type', 'strategic', '-p', patch, '-o', 'json'], { ...process.env, KUBECONFIG: '/dev/null' }));
  const merged = (JSON.parse(out) as { spec: { initContainers: V1Container[] } }).spec.initContainers;
  assert.equal(merged.length, 1);
  return merged[0] as V1Container;
}

/** The platform engineer's edit: the policy's values in place of the placeholders, by variable name. */
function withPolicy(c: ClusterStorageContainer, policy: Record<string, string>): ClusterStorageContainer {
  const edited = structuredClone(c);
  const env = edited.spec.container.env ?? [];
  for (const name of Object.keys(policy)) assert.ok(env.some((e) => e.name === name), `the manifest sets ${name}`);
  edited.spec.container.env = env.map((e) => (e.name in policy ? { name: e.name, value: policy[e.name] } : e));
  for (const e of edited.spec.container.env) assert.doesNotMatch(e.value ?? '', /REPLACE-ME/, `${e.name} is a placeholder the test left`);
  return edited;
}

const policy = (): Record<string, string> => ({
  SLSA_ML_PULL_KEY: key.publicPem,
  SLSA_ML_PULL_BUILDER_ID: BUILDER_ID,
  SLSA_ML_PULL_DENY: `${DENY}\n`,
  SLSA_ML_PULL_MAX_AGE: '30d',
});

interface Initialized {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly dest: string;
  readonly message: string;
}

/**
 * Runs the init container as the kubelet would, on this machine: its command with the image's paths
 * mapped onto this checkout (node, /app/operator/bin.ts: the Dockerfile's WORKDIR and COPY), its
 * args with /mnt/models as an existing empty directory (the emptyDir), its env as given. Only the
 * GCS endpoint (fake GCS) and the termination message path (the kubelet's /dev/termination-log,
 * which exists in a container) are added.
 */
async function runInitContainer(container: V1Container): Promise<Initialized> {
  const pod = await mkdtemp(join(scratch, 'pod-'));
  const dest = join(pod, 'mnt', 'models');
  await mkdir(dest, { recursive: true });
  const messagePath = join(pod, 'termination-log');
  await writeFile(messagePath, '');
  const [program, script, ...rest] = [...(container.command ?? []), ...(container.args ?? [])];
  assert.equal(program, 'node');
  assert.equal(script, '/app/operator/bin.ts');
  const argv = [join(repo, 'operator', 'bin.ts'), ...rest.map((a) => (a === MODEL_MOUNT ? dest : a))];
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SLSA_ML_GCS_ENDPOINT: testEnv().gcsEndpoint, SLSA_ML_TERMINATION_MESSAGE_PATH: messagePath };
  for (const e of container.env ?? []) {
    assert.equal(e.valueFrom, undefined, `${e.name}: literal values only`);
    env[e.name] = e.value ?? '';
  }
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(process.execPath, argv, { env }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      if (typeof code !== 'number') reject(err ?? new Error('no exit code'));
      else resolve({ code, stdout, stderr });
    });
  });
  return { ...result, dest, message: await readFile(messagePath, 'utf8') };
}

const bucket = () => testEnv().storageClient().bucket(testEnv().bucket);
const gs = (name: string): string => `gs://${testEnv().bucket}/${name}`;

interface Model {
  readonly name: string;
  readonly uri: string;
  readonly files: Record<string, Buffer>;
}

const SAVED_MODEL = (): Record<string, Buffer> => ({
  'saved_model.pb': randomBytes(2048),
  'fingerprint.pb': randomBytes(20),
  'variables/variables.index': randomBytes(300),
  'variables/variables.data-00000-of-00001': randomBytes(9000),
  'assets/vocab.txt': Buffer.from('a\nb\nc\n'),
});

/** Uploads a tiny model and, unless `attested` is false, attests it with `slsa-ml attest` (provenance and MODEL.sig). */
async function model(kind: 'file' | 'directory', facts: Partial<RunFacts> & { builderId?: string; attested?: boolean; files?: Record<string, Buffer> } = {}): Promise<Model> {
  const prefix = `${uniqueName(`serving-${kind}`)}/`;
  const name = kind === 'file' ? `${prefix}cifar10/v3/pytorch_model.pth` : `${prefix}cifar10/v3/saved_model/`;
  const files = facts.files ?? (kind === 'file' ? { 'pytorch_model.pth': randomBytes(20_000) } : SAVED_MODEL());
  await Promise.all(Object.entries(files).map(([path, data]) => bucket().file(kind === 'file' ? name : name + path).save(data, { resumable: false })));
  if (facts.attested !== false) {
    const taskRun = join(scratch, `${uniqueName('taskrun')}.json`);
    // Trained an hour ago: the policy's max age is measured with the real clock.
    await writeFile(taskRun, JSON.stringify(taskRunFor({ modelUri: gs(name), finishedOn: new Date(Date.now() - 3_600_000).toISOString(), ...facts })));
    const attest = await cli(['attest', '--taskrun', taskRun, '--key', key.privatePath, '--allowed-prefix', gs(prefix), '--builder-id', facts.builderId ?? BUILDER_ID, '--gcs-endpoint', testEnv().gcsEndpoint], { now: new Date() });
    assert.equal(attest.code, 0, attest.stderr);
  }
  return { name, uri: gs(name), files };
}

/** The init container KServe builds for `uri` from serving.yaml with the test's policy, run. */
async function initialize(uri: string): Promise<Initialized> {
  return runInitContainer(await kserveInitContainer(uri, withPolicy(csc, policy())));
}

async function assertHolds(dest: string, files: Record<string, Buffer>): Promise<void> {
  const onDisk = (await readdir(dest, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dest.length + 1)).sort();
  assert.deepEqual(onDisk, Object.keys(files).sort());
  for (const [path, data] of Object.entries(files)) assert.ok((await readFile(join(dest, path))).equals(data), `${path} holds the object's bytes`);
}

async function assertRefused(result: Initialized, reason: RegExp, code = 1): Promise<void> {
  assert.equal(result.code, code, result.stdout + result.stderr);
  assert.deepEqual(await readdir(result.dest), [], 'DEST (the emptyDir) is left empty');
  assert.match(result.message, reason);
  assert.doesNotMatch(result.message.trimEnd(), /\n/, 'the termination message is one line');
  assert.equal(result.message.trimEnd(), result.stderr.split('\n')[0], 'the termination message is the first stderr line');
  assert.equal(hasStackTrace(result.stderr), false);
}

describe('the storage initializer KServe builds from serving.yaml, run against fake GCS', () => {
  it('is `slsa-ml pull` with KServe\'s [storageUri, /mnt/models] as MODEL and DEST, the pinned image, and literal env only', async () => {
    const uri = gs('m/v1/pytorch_model.pth');
    const container = await kserveInitContainer(uri, csc);
    const dockerfile = await readFile(join(repo, 'Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    assert.deepEqual(container.command, [...entrypoint, 'pull'], "the image's own entrypoint, and the command pull");
    assert.match(dockerfile, /^WORKDIR \/app$/m);
    assert.match(dockerfile, /^COPY operator \.\/operator$/m);
    assert.deepEqual(container.args, [uri, MODEL_MOUNT], 'serving.yaml sets no args: KServe\'s stay');
    assert.equal(container.name, 'storage-initializer');
    assert.equal(container.image, SAMPLE_IMAGE);
    assert.equal(container.terminationMessagePolicy, 'FallbackToLogsOnError');
    assert.deepEqual(container.resources, { limits: { cpu: '2', memory: '512Mi' }, requests: { cpu: '500m', memory: '256Mi' } });
    assert.deepEqual((container.env ?? []).map((e) => e.name).sort(), [
      'SLSA_ML_PULL_BUILDER_ID', 'SLSA_ML_PULL_DENY', 'SLSA_ML_PULL_KEY', 'SLSA_ML_PULL_MAX_AGE', 'SLSA_ML_PULL_REQUIRE_MODEL_SIGNATURE',
    ]);
    for (const e of container.env ?? []) assert.deepEqual(Object.keys(e).sort(), ['name', 'value'], `${e.name} is a literal value, never valueFrom`);
  });

  it('as released, with the placeholders unedited, it refuses a genuine model: exit 2, DEST empty, the reason in the termination message', async () => {
    const genuine = await model('file');
    const result = await runInitContainer(await kserveInitContainer(genuine.uri, csc));
    await assertRefused(result, /^slsa-ml pull: --key REPLACE-ME: /, 2);
  });

  it('a genuine single-file model lands in /mnt/models: exit 0, nothing in the termination message', async () => {
    const genuine = await model('file', { frameworks: ['pkg:pypi/torch@2.8.0'] });
    const result = await initialize(genuine.uri);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, new RegExp(`^slsa-ml pull: verified ${genuine.uri} sha256:[0-9a-f]{64} \\(1 file, 20000 bytes\\) built by ${BUILDER_ID}, model signature verified; written to ${result.dest}\\n$`));
    await assertHolds(result.dest, genuine.files);
    assert.equal(result.message, '');
  });

  it('a genuine SavedModel-like directory lands under /mnt/models, file for file', async () => {
    const genuine = await model('directory', { frameworks: ['pkg:pypi/tensorflow-cpu@2.20.0'] });
    const result = await initialize(genuine.uri);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\(5 files, \d+ bytes\) built by .*, model signature verified; written to /);
    await assertHolds(result.dest, genuine.files);
    assert.equal(result.message, '');
  });

  it('one byte flipped after attest: refused (subject)', async () => {
    const tampered = await model('file');
    const [bytes] = await bucket().file(tampered.name).download();
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await bucket().file(tampered.name).save(bytes, { resumable: false });
    await assertRefused(await initialize(tampered.uri), /^slsa-ml pull: gs:\/\/\S+ refused, nothing written to \S+: subject: .*\[SUBJECT_MISMATCH\]/);
  });

  it('a model without provenance: refused (provenance)', async () => {
    const bare = await model('directory', { attested: false });
    await assertRefused(await initialize(bare.uri), /: provenance: no provenance next to the model: .*\[PROVENANCE_NOT_FOUND\]/);
  });

  it('attested by another builder than the policy trusts: refused (builderId)', async () => {
    const foreign = await model('file', { builderId: 'https://slsa-ml.dev/operators/someone-else' });
    await assertRefused(await initialize(foreign.uri), new RegExp(`: builderId: built by https://slsa-ml\\.dev/operators/someone-else, want ${BUILDER_ID.replaceAll('.', '\\.')} \\[BUILDER_MISMATCH\\]`));
  });

  it('trained with a torch version the policy denies: refused (deny)', async () => {
    const vulnerable = await model('directory', { frameworks: ['pkg:pypi/torch@2.5.1'] });
    await assertRefused(await initialize(vulnerable.uri), /: deny pkg:pypi\/torch@<2\.6\.0: trained with pkg:pypi\/torch@2\.5\.1 \[DENIED_DEPENDENCY\]/);
  });

  it('made to serve every URI (docs/serving.md), it refuses one it cannot verify, s3://, leaving DEST empty', async () => {
    const everything = withPolicy(csc, policy());
    everything.spec.supportedUriFormats = [{ regex: '.*' }];
    const result = await runInitContainer(await kserveInitContainer('s3://models/cifar10/v3/model.pth', everything));
    await assertRefused(result, /^slsa-ml pull: model s3:\/\/models\/cifar10\/v3\/model\.pth: s3:\/\/ is not supported/, 2);
  });
});

interface InferenceService {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec: { predictor: { model: { storageUri: string; resources?: unknown } } };
  status?: {
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    modelStatus?: { transitionStatus?: string; lastFailureInfo?: { reason?: string; message?: string; exitCode?: number } };
  };
}

describe('through KServe itself: its controller in RawDeployment mode and its Pod mutator, kube-controller-manager, the storage initializer run as a kubelet would', () => {
  /** KServe's webhooks see only namespaces with this label (hack/env/kserve-controller.ts). */
  const WEBHOOK_LABEL = 'slsa-ml.dev/kserve-webhooks';
  const admin = (): KubeConfig => testEnv().kubeConfig('admin');
  let kcm: ControllerManagerHandle | undefined;
  let kserve: KserveHandle | undefined;
  let runner: InitContainerRunner | undefined;
  let ns: string;
  /** The last storage initializer run of each InferenceService's Pod. */
  const initialized = new Map<string, Initialized>();

  before(async () => {
    const tools = toolPaths();
    const stateDir = await mkdtemp(join(scratch, 'kserve-'));
    kcm = await startKubeControllerManager(requireTool(tools.kubeControllerManager, 'kube-controller-manager'), stateDir, testEnv().kubeconfigPath);
    ns = uniqueName('kserve-gated');
    await admin().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns, labels: { [WEBHOOK_LABEL]: ns } } } });
    kserve = await startKserveController({
      binary: requireTool(tools.kserveController, 'kserve-controller'),
      configDir: requireTool(tools.kserveConfigDir, 'kserve-config'),
      stateDir, admin: admin(), tls: makeTestTls(), namespaceLabel: { [WEBHOOK_LABEL]: ns },
    });
    await waitControllerManagerReady(kcm, 60_000);
    // The platform engineer's install: the release's serving.yaml with the policy filled in.
    const gate = join(stateDir, 'serving.yaml');
    await writeFile(gate, stringify(withPolicy(csc, policy())));
    await ok(kubectl(['apply', '--server-side', '--field-manager', 'slsa-ml-test', '-f', gate]));
    runner = new InitContainerRunner(admin(), {
      namespace: ns, container: 'storage-initializer', labelSelector: 'serving.kserve.io/inferenceservice',
      handler: async (pod, container) => {
        const startedAt = new Date();
        const result = await runInitContainer(container);
        initialized.set(pod.metadata?.labels?.['serving.kserve.io/inferenceservice'] ?? '', result);
        // FallbackToLogsOnError, as the kubelet applies it: the log's tail when a failed container wrote no message.
        const fallback = result.code !== 0 && !result.message && container.terminationMessagePolicy === 'FallbackToLogsOnError';
        return { exitCode: result.code, message: fallback ? (result.stdout + result.stderr).slice(-2048) : result.message, startedAt, finishedAt: new Date() };
      },
    }).start();
  });

  after(async () => {
    await runner?.stop();
    if (kserve) {
      await removeKserve(admin(), kserve);
      await stopGroup(kserve.pid);
    }
    if (kcm) await stopGroup(kcm.pid);
    await kubectl(['delete', '--ignore-not-found', `clusterstoragecontainer/${csc.metadata.name}`]);
  });

  /** The example InferenceService of manifests/serving, for `uri`, applied by its author with kubectl. */
  async function deploy(uri: string): Promise<string> {
    const [example] = documents<InferenceService>(await readFile(join(repo, 'manifests', 'serving', 'examples', 'inferenceservice.yaml'), 'utf8'));
    assert.ok(example);
    const name = uniqueName('isvc');
    example.metadata.name = name;
    example.spec.predictor.model.storageUri = uri;
    // Small requests, so that many predictors fit the fake nodes beside other tests' Pods.
    example.spec.predictor.model.resources = { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } };
    const file = join(scratch, `${name}.yaml`);
    await writeFile(file, stringify(example));
    await ok(kubectl(['-n', ns, 'apply', '-f', file]));
    return name;
  }

  /**
   * Annotates the InferenceService every `ms` (any change makes KServe reconcile it), until cleared:
   * a stand-in for the Deployment's 600 s progress deadline. KServe reads Pods from its own cache,
   * and a reconcile that comes before that cache has seen the init container fail finds nothing to
   * report (seen once on the busy CI machine), so one annotation is not always enough.
   */
  function reconcileEvery(name: string, ms: number): NodeJS.Timeout {
    return setInterval(() => void kubectl(['-n', ns, 'annotate', '--overwrite', 'inferenceservice', name, `slsa-ml.dev/test-reconcile=${Date.now()}`]), ms);
  }

  /** Waits for KServe's verdict on the InferenceService. */
  async function settled(name: string): Promise<InferenceService> {
    const api = admin().makeApiClient(CustomObjectsApi);
    const deadline = Date.now() + 90_000;
    let last: InferenceService | undefined;
    while (Date.now() < deadline) {
      last = await api.getNamespacedCustomObject({ group: 'serving.kserve.io', version: 'v1beta1', namespace: ns, plural: 'inferenceservices', name }) as InferenceService;
      const transition = last.status?.modelStatus?.transitionStatus;
      if (transition === 'UpToDate' || transition === 'BlockedByFailedLoad') return last;
      assert.deepEqual(runner?.errors ?? [], []);
      await sleep(250);
    }
    throw new Error(`InferenceService ${name} not settled after 90 s: ${JSON.stringify(last?.status)}\n${tail(kserve?.log ?? '')}`);
  }

  /** The READY column of `kubectl get inferenceservice NAME`, read at the header's offset (URL may be empty). */
  async function readyColumn(name: string): Promise<string> {
    const [header = '', row = ''] = (await ok(kubectl(['-n', ns, 'get', 'inferenceservice', name]))).split('\n');
    const at = header.indexOf('READY');
    assert.ok(at > 0, header);
    return row.slice(at).split(/\s+/)[0] ?? '';
  }

  async function podInitFailed(name: string): Promise<V1Pod> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const pods = await admin().makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: `serving.kserve.io/inferenceservice=${name}` });
      const pod = pods.items.find((p) => p.status?.initContainerStatuses?.some((c) => c.state?.terminated));
      if (pod) return pod;
      assert.deepEqual(runner?.errors ?? [], []);
      await sleep(250);
    }
    throw new Error(`no predictor Pod of ${name} with a terminated storage initializer after 60 s`);
  }

  /** What the kubelet reports at once: the Pod stuck in Init:Error, the reason in its status; /mnt/models empty. */
  async function assertPodRefused(label: string, name: string, pod: V1Pod, bad: Model, reason: RegExp): Promise<void> {
    const status = pod.status ?? {};
    const podName = pod.metadata?.name ?? '';
    assert.equal(status.phase, 'Pending', `${label}: the model server never starts`);
    assert.equal((status.containerStatuses ?? []).some((c) => c.ready || c.state?.running), false, label);
    const terminated = (status.initContainerStatuses ?? []).find((c) => c.name === 'storage-initializer')?.state?.terminated;
    assert.equal(terminated?.exitCode, 1, label);
    assertRefusal(label, terminated?.message ?? '', bad, reason);
    const result = initialized.get(name);
    assert.ok(result, `${label}: the storage initializer ran`);
    assert.deepEqual(await readdir(result.dest), [], `${label}: /mnt/models left empty`);
    assert.match(await ok(kubectl(['-n', ns, 'get', 'pod', podName, '--no-headers'])), /\sInit:Error\s/, label);
    const described = await ok(kubectl(['-n', ns, 'describe', 'pod', podName]));
    assert.match(described, /storage-initializer:[\s\S]*State:\s+Terminated\s+Reason:\s+Error\s+Message:\s+slsa-ml pull: /, `${label}: kubectl describe pod`);
    assert.notEqual(await readyColumn(name), 'True', `${label}: kubectl get inferenceservice`);
  }

  function assertRefusal(label: string, message: string, bad: Model, reason: RegExp): void {
    assert.match(message, new RegExp(`^slsa-ml pull: ${bad.uri.replaceAll('.', '\\.')} refused, nothing written to \\S+: `), label);
    assert.match(message, reason, label);
  }

  /** The InferenceService once KServe has read the Pod: BlockedByFailedLoad, the message in kubectl describe. */
  async function assertIsvcRefused(label: string, isvc: InferenceService, bad: Model, reason: RegExp): Promise<void> {
    const { modelStatus = {}, conditions = [] } = isvc.status ?? {};
    const failure = modelStatus.lastFailureInfo ?? {};
    const message = failure.message ?? '';
    assert.equal(modelStatus.transitionStatus, 'BlockedByFailedLoad', label);
    assert.equal(failure.reason, 'ModelLoadFailed', label);
    assert.equal(failure.exitCode, 1, label);
    assertRefusal(label, message, bad, reason);
    assert.notEqual(conditions.find((c) => c.type === 'Ready')?.status, 'True', `${label}: not Ready`);
    const described = await ok(kubectl(['-n', ns, 'describe', 'inferenceservice', isvc.metadata.name]));
    assert.match(described, /Reason:\s+ModelLoadFailed/, label);
    assert.ok(described.includes(message.slice(0, 60)), `${label}: kubectl describe inferenceservice shows the reason:\n${described}`);
    assert.notEqual(await readyColumn(isvc.metadata.name), 'True', `${label}: kubectl get inferenceservice`);
  }

  async function predictorPod(name: string): Promise<V1Pod> {
    const pods = await admin().makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: `serving.kserve.io/inferenceservice=${name}` });
    assert.equal(pods.items.length, 1, `one predictor Pod for ${name}`);
    return pods.items[0] as V1Pod;
  }

  it('a genuine model: KServe injects `slsa-ml pull` as the storage initializer, the model lands in /mnt/models, and the InferenceService becomes ready', async () => {
    const genuine = await model('directory', { frameworks: ['pkg:pypi/torch@2.8.0'] });
    const name = await deploy(genuine.uri);
    const isvc = await settled(name);
    assert.equal(isvc.status?.modelStatus?.transitionStatus, 'UpToDate', JSON.stringify(isvc.status));
    assert.equal(isvc.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', JSON.stringify(isvc.status?.conditions));
    const pod = await predictorPod(name);
    const init = pod.spec?.initContainers?.find((c) => c.name === 'storage-initializer');
    assert.deepEqual(init?.args, [genuine.uri, MODEL_MOUNT], "KServe's Pod mutator built it from the storageUri");
    assert.deepEqual(init?.command, csc.spec.container.command, 'from the slsa-ml-gcs ClusterStorageContainer');
    assert.equal(pod.status?.phase, 'Running');
    const result = initialized.get(name);
    assert.ok(result, 'the storage initializer ran');
    await assertHolds(result.dest, genuine.files);
    assert.equal(await readyColumn(name), 'True');
  });

  it('a flipped byte, a swapped shard, a model replaced after signing, an untrusted builder, a denied torch, no provenance: the predictor never becomes ready, and `kubectl describe`/`get inferenceservice` say why', async () => {
    const shards = (): Record<string, Buffer> => ({ 'config.json': Buffer.from('{"shards":2}'), 'model-00001-of-00002.safetensors': randomBytes(30_000), 'model-00002-of-00002.safetensors': randomBytes(30_000) });
    const flipped = await model('file');
    const [bytes] = await bucket().file(flipped.name).download();
    bytes[7] = (bytes[7] ?? 0) ^ 0x01;
    await bucket().file(flipped.name).save(bytes, { resumable: false });
    const swapped = await model('directory', { files: shards() });
    const [first, second] = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    await bucket().file(swapped.name + first).save(swapped.files[second] as Buffer, { resumable: false });
    await bucket().file(swapped.name + second).save(swapped.files[first] as Buffer, { resumable: false });
    const replaced = await model('directory', { files: shards() });
    for (const path of Object.keys(replaced.files)) await bucket().file(replaced.name + path).save(randomBytes(1000), { resumable: false });
    const cases: Array<[string, Model, RegExp]> = [
      ['flipped byte', flipped, /subject: .*\[SUBJECT_MISMATCH\]/],
      ['swapped shard', swapped, /subject: .*\[SUBJECT_MISMATCH\]/],
      ['replaced after signing', replaced, /subject: .*\[SUBJECT_MISMATCH\]/],
      ['untrusted builder', await model('file', { builderId: 'https://slsa-ml.dev/operators/someone-else' }), /builderId: built by https:\/\/slsa-ml\.dev\/operators\/someone-else.*\[BUILDER_MISMATCH\]/],
      ['denied torch', await model('directory', { frameworks: ['pkg:pypi/torch@2.5.1'] }), /deny pkg:pypi\/torch@<2\.6\.0: trained with pkg:pypi\/torch@2\.5\.1 \[DENIED_DEPENDENCY\]/],
      ['no provenance', await model('directory', { attested: false }), /provenance: no provenance next to the model.*\[PROVENANCE_NOT_FOUND\]/],
    ];
    const names = await Promise.all(cases.map(([, m]) => deploy(m.uri)));
    const pods = await Promise.all(names.map((n) => podInitFailed(n)));
    for (const [i, [label, bad, reason]] of cases.entries()) await assertPodRefused(label, names[i] ?? '', pods[i] as V1Pod, bad, reason);
    // KServe copies the storage initializer's termination message into the InferenceService when it
    // next reconciles it; it does not watch Pods, so in a cluster that is the Deployment's progress
    // deadline (600 s) at the latest. Any change to the InferenceService does it at once: so here,
    // and again every 5 s until KServe's own Pod cache has the failure.
    const nudgers = names.map((name) => reconcileEvery(name, 5_000));
    for (const name of names) await ok(kubectl(['-n', ns, 'annotate', '--overwrite', 'inferenceservice', name, `slsa-ml.dev/test-reconcile=${Date.now()}`]));
    const settledAll = await Promise.all(names.map((n) => settled(n))).finally(() => nudgers.forEach((t) => clearInterval(t)));
    for (const [i, [label, bad, reason]] of cases.entries()) await assertIsvcRefused(label, settledAll[i] as InferenceService, bad, reason);
  });
});
