// The serving gate as users meet it: the real kube-apiserver, with KServe's real CRDs, calls
// `slsa-ml gate` (the real executable) as a validating webhook for InferenceServices, and an
// apply is refused with the gate's reasons unless every model has a PASSED verification summary
// for the platform's policy, signed by the operator's key, beside it in (fake) GCS.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ApiException, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { freePort } from '../../hack/env/ports.ts';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { summaryLocation } from '../../src/layout/index.ts';
import { parsePolicy } from '../../src/policy/index.ts';
import { createSigner } from '../../src/signing/index.ts';
import { SLSA_BUILD_LEVEL_3, buildSummary, signSummary } from '../../src/vsa/index.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { applyOperatorRbac, generateSigningKeys, type SigningKeys } from '../support/operator-process.ts';
import { makeTestTls, type TestTls } from '../support/tls.ts';
import { uploadModel } from '../support/training-run.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const repo = join(import.meta.dirname, '..', '..');
const prefix = uniqueName('serving-gate');
const POLICY = 'name: https://acme.example/policies/serving/v1\nbuilder-id: https://slsa-ml.dev/operator/prod\ndeny:\n  - pkg:pypi/torch@<2.6.0\n';
const VERIFIER = 'https://slsa-ml.dev/operator/prod#verifier';
const WEBHOOK = `slsa-ml-serving-gate-${prefix}`.slice(0, 63);
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

let tls: TestTls;
let platform: SigningKeys;
let gate: ChildProcess;
let gateOutput = '';
let ns: string;

/** A model in GCS, and (unless `summary` is false) a summary for POLICY beside it, signed by `signer`. */
async function model(name: string, options: { summary?: boolean; signer?: SigningKeys; passed?: boolean; policyDigest?: string } = {}): Promise<string> {
  const bytes = Buffer.from(`weights ${randomUUID()}`);
  const uri = await uploadModel(env, `${prefix}/${name}/pytorch_model.pth`, bytes);
  if (options.summary === false) return uri;
  const statement = buildSummary({
    verifierId: VERIFIER,
    verifierVersion: { 'slsa-ml': 'test' },
    timeVerified: new Date(),
    modelUri: uri,
    sha256: sha256(bytes),
    policy: { uri: 'https://acme.example/policies/serving/v1', digest: options.policyDigest ?? parsePolicy(POLICY, 'policy.yaml').digest },
    provenance: { uri: `${uri}.sigstore.json`, sha256: sha256('bundle') },
    passed: options.passed ?? true,
    levels: options.passed === false ? [] : [SLSA_BUILD_LEVEL_3],
  });
  const bundle = await signSummary(statement, await createSigner({ kind: 'key', keyPem: readFileSync((options.signer ?? platform).privateKeyPath, 'utf8') }));
  await uploadModel(env, summaryLocation(uri, options.policyDigest ?? parsePolicy(POLICY, 'policy.yaml').digest).replace(`gs://${env.bucket}/`, ''), Buffer.from(bundle));
  return uri;
}

function inferenceService(name: string, predictor: Record<string, unknown>): KubernetesObject {
  return { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace: ns }, spec: { predictor } } as KubernetesObject;
}

const pytorch = (storageUri: string): Record<string, unknown> => ({ model: { modelFormat: { name: 'pytorch' }, storageUri } });

/** Applies as `kubectl apply` would (server-side); undefined when admitted, else the API server's message. */
async function apply(isvc: KubernetesObject): Promise<string | undefined> {
  try {
    await KubernetesObjectApi.makeApiClient(admin).create(isvc);
    return undefined;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: string };
    return `${err.code}: ${body.message ?? ''}`;
  }
}

describe('the serving gate, called by the real API server for InferenceServices', () => {
  before(async () => {
    tls = makeTestTls();
    platform = generateSigningKeys();
    const policyPath = join(tls.dir, 'policy.yaml');
    writeFileSync(policyPath, POLICY);
    const port = await freePort();
    gate = spawn(process.execPath, [join(repo, 'operator', 'bin.ts'), 'gate', '--tls-cert', tls.certPath, '--tls-key', tls.keyPath, '--policy', policyPath,
      '--key', platform.publicKeyPath, '--verifier-id', VERIFIER, '--host', '127.0.0.1', '--port', String(port), '--gcs-endpoint', env.gcsEndpoint], { stdio: ['ignore', 'pipe', 'pipe'] });
    gate.stdout?.on('data', (d: Buffer) => { gateOutput += d.toString(); });
    gate.stderr?.on('data', (d: Buffer) => { gateOutput += d.toString(); });
    for (let i = 0; !gateOutput.includes('slsa-ml serving gate listening'); i++) {
      assert.ok(i < 100 && gate.exitCode === null, `the gate did not start:\n${gateOutput}`);
      await sleep(100);
    }
    ns = `gate-${randomUUID().slice(0, 8)}`;
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns, labels: { 'slsa-ml.dev/serving-gate': 'enforced' } } } });
    await KubernetesObjectApi.makeApiClient(admin).create({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: WEBHOOK },
      webhooks: [{
        name: 'inferenceservices.gate.slsa-ml.dev',
        clientConfig: { url: `https://127.0.0.1:${port}/validate`, caBundle: Buffer.from(tls.caPem).toString('base64') },
        rules: [{ apiGroups: ['serving.kserve.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['inferenceservices', 'trainedmodels'] }],
        namespaceSelector: { matchLabels: { 'slsa-ml.dev/serving-gate': 'enforced' } },
        failurePolicy: 'Fail',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 10,
      }],
    } as KubernetesObject);
    // The API server picks up a new webhook configuration asynchronously: wait until it calls the gate.
    for (let i = 0; ; i++) {
      const refused = await apply(inferenceService(`probe-${i}`, pytorch('s3://bucket/probe/')));
      if (refused?.includes('slsa-ml serving gate refused')) break;
      assert.ok(i < 50, `the API server never called the gate; last answer: ${refused ?? 'admitted'}`);
      if (refused === undefined) await KubernetesObjectApi.makeApiClient(admin).delete(inferenceService(`probe-${i}`, {}));
      await sleep(200);
    }
  });

  after(async () => {
    await KubernetesObjectApi.makeApiClient(admin).delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: WEBHOOK } }).catch(() => undefined);
    gate.kill('SIGTERM');
  });

  it('admits an InferenceService whose model has a PASSED summary for the policy, signed by the operator\'s key', async () => {
    const uri = await model('good');
    assert.equal(await apply(inferenceService('good', pytorch(uri))), undefined, gateOutput.slice(-2000));
    const stored = await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'serving.kserve.io', version: 'v1beta1', namespace: ns, plural: 'inferenceservices', name: 'good' }) as { spec: { predictor: { model: { storageUri: string } } } };
    assert.equal(stored.spec.predictor.model.storageUri, uri);
  });

  it('refuses at apply, with the reason, a model with no summary, a summary by another key, a FAILED one and one for another policy', async () => {
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['unsigned', model('unsigned', { summary: false }), /no verification summary for policy https:\/\/acme\.example\/policies\/serving\/v1/],
      ['forged', model('forged', { signer: generateSigningKeys() }), /fails signature: .*WRONG_KEY/],
      ['failed', model('failed', { passed: false }), /\[SUMMARY_FAILED\]/],
      ['other-policy', model('other-policy', { policyDigest: sha256('another policy') }), /no verification summary for policy/],
    ];
    for (const [name, uri, reason] of cases) {
      const refused = await apply(inferenceService(name, pytorch(await uri)));
      assert.match(refused ?? 'admitted', /^403: admission webhook "inferenceservices\.gate\.slsa-ml\.dev" denied the request: slsa-ml serving gate refused/, name);
      assert.match(refused ?? '', reason, name);
    }
  });

  it('refuses the ways around the storage initializer: another scheme, its own storage-initializer init container, KServe\'s agent annotation', async () => {
    const uri = await model('bypassed');
    const refusals = [
      await apply(inferenceService('s3', pytorch('s3://bucket/model/'))),
      await apply(inferenceService('own-init', { ...pytorch(uri), initContainers: [{ name: 'storage-initializer', image: 'busybox' }] })),
      await apply(inferenceService('agent', { ...pytorch(uri), annotations: { 'internal.serving.kserve.io/agent': 'true' } })),
    ];
    assert.match(refusals[0] ?? '', /spec\.predictor\.model\.storageUri: s3:\/\/bucket\/model\/ is not a gs:\/\/ model/);
    assert.match(refusals[1] ?? '', /spec\.predictor\.initContainers\[0\]: an init container named storage-initializer makes KServe skip/);
    assert.match(refusals[2] ?? '', /spec\.predictor\.annotations\[internal\.serving\.kserve\.io\/agent\]/);
  });
});

describe("the gate's manifests (manifests/serving/gate)", () => {
  it('render with kustomize, and the API server accepts every object (server-side dry run)', async () => {
    await applyOperatorRbac(env); // the slsa-ml-system namespace
    const kubectl = requireTool(toolPaths().kubectl, 'kubectl');
    const run = (args: string[]): Promise<{ stdout: string }> => promisify(execFile)(kubectl, ['--kubeconfig', env.kubeconfigPath, '--context', 'admin', ...args]);
    const rendered = (await run(['kustomize', join(repo, 'manifests', 'serving', 'gate')])).stdout;
    const file = join(makeTestTls().dir, 'gate.yaml');
    writeFileSync(file, rendered);
    const out = (await run(['apply', '--dry-run=server', '-f', file])).stdout;
    for (const object of ['serviceaccount/slsa-ml-gate', 'configmap/slsa-ml-gate-policy', 'deployment.apps/slsa-ml-gate', 'service/slsa-ml-gate', 'validatingwebhookconfiguration.admissionregistration.k8s.io/slsa-ml-serving-gate']) {
      assert.match(out, new RegExp(`^${object.replaceAll('.', '\\.')} (created|configured|unchanged) \\(server dry run\\)$`, 'm'), out);
    }
  });
});
