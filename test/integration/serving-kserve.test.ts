// The serving gate for KServe (manifests/serving), as far as KServe reaches without its controller:
// the ClusterStorageContainer of a release's serving.yaml (hack/render-release.sh, a sample image
// digest) and the example InferenceService through the real kube-apiserver with KServe v0.15.2's own
// CRDs; then the storage initializer KServe would build from them — its init container
// (storage-initializer, args [<storageUri>, /mnt/models]) with the ClusterStorageContainer's
// container merged over it by Kubernetes' strategic merge, as KServe's injector merges it — run as a
// local process with the real executable against fake GCS, on models made and attested by
// `slsa-ml attest`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { V1Container } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';

import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { newNamespace, testEnv, uniqueName } from '../harness/index.ts';
import { BUILDER_ID, cli, hasStackTrace, taskRunFor, writeKeyPair, type KeyFiles, type RunFacts } from '../support/cli.ts';

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
async function model(kind: 'file' | 'directory', facts: Partial<RunFacts> & { builderId?: string; attested?: boolean } = {}): Promise<Model> {
  const prefix = `${uniqueName(`serving-${kind}`)}/`;
  const name = kind === 'file' ? `${prefix}cifar10/v3/pytorch_model.pth` : `${prefix}cifar10/v3/saved_model/`;
  const files = kind === 'file' ? { 'pytorch_model.pth': randomBytes(20_000) } : SAVED_MODEL();
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
