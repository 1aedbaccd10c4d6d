// What a platform engineer installs, seen by the real API server: release.yaml rendered as the
// release workflow renders it (hack/render-release.sh, kubectl v1.34.4's kustomize, a sample image
// digest), applied with each example values file the way docs/gke.md applies it, plus the optional
// monitoring components against their real CRDs. Server-side dry runs, except the RBAC and the
// metadata-only policy, which are applied for real to check what they allow.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { ApiException, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { loadConfig } from '../../operator/config/index.ts';
import { newNamespace, testEnv } from '../harness/index.ts';
import { crdFile, MONITORING_CRDS } from '../support/monitoring-crds.ts';
import { applyOperatorRbac } from '../support/operator-process.ts';
import { createTaskRun, trainingTaskRun } from '../support/tekton.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const OPERATOR = 'system:serviceaccount:slsa-ml-system:slsa-ml-operator';
const SAMPLE_IMAGE = `ghcr.io/slsa-ml/slsa-ml@sha256:${'5e'.repeat(32)}`;
const SIGNERS = ['key', 'kms', 'sigstore'];

interface Result { code: number; out: string }

async function command(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, args, { env, maxBuffer: 16 << 20 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const kubectlPath = (): string => requireTool(toolPaths().kubectl, 'kubectl');
const kubectl = (args: string[]): Promise<Result> => command(kubectlPath(), ['--kubeconfig', testEnv().kubeconfigPath, '--context', 'admin', ...args]);

async function ok(result: Promise<Result>): Promise<string> {
  const { code, out } = await result;
  assert.equal(code, 0, out);
  return out;
}

/** Kubernetes reads manifests as YAML 1.1 (`defaultMode: 0400` is octal). */
function objects(text: string): KubernetesObject[] {
  return parseAllDocuments(text, { version: '1.1' }).map((doc) => {
    assert.deepEqual(doc.errors, []);
    return doc.toJS() as KubernetesObject;
  });
}

/** `kubectl wait` and jsonpath filters error out while a new CRD has no conditions yet: poll. */
async function established(crd: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { status } = JSON.parse(await ok(kubectl(['get', `crd/${crd}`, '-o', 'json']))) as { status?: { conditions?: Array<{ type: string; status: string }> | null } };
    if (status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${crd} is not Established after 20 s`);
}

const kinds = (docs: KubernetesObject[]): string[] => docs.map((d) => String(d.kind)).sort();

let assets: string;
const asset = (name: string): string => join(assets, name);
const read = (name: string): string => readFileSync(asset(name), 'utf8');

describe('installing from a release', () => {
  before(async () => {
    await applyOperatorRbac(testEnv());
    assets = mkdtempSync(join(tmpdir(), 'slsa-ml-release-'));
    await ok(command('bash', [join(repo, 'hack', 'render-release.sh'), SAMPLE_IMAGE, assets], { ...process.env, KUBECTL: kubectlPath() }));
  });

  it('the release assets are release.yaml, a values file per signer, the monitoring objects and the serving gate', () => {
    assert.deepEqual(readdirSync(assets).sort(), ['pod-monitoring.yaml', 'release.yaml', 'service-monitor.yaml', 'serving.yaml', ...SIGNERS.map((s) => `values-${s}.yaml`)]);
  });

  it('release.yaml runs the image by digest and holds everything but the per-cluster values', () => {
    const docs = objects(read('release.yaml'));
    assert.deepEqual(kinds(docs), [
      'ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service',
      'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicyBinding',
    ]);
    const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as { spec: { replicas: number; template: { spec: { containers: Array<{ image: string; securityContext: Record<string, unknown> }>; securityContext: Record<string, unknown> } } } };
    assert.deepEqual(deployment.spec.template.spec.containers.map((c) => c.image), [SAMPLE_IMAGE]);
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(deployment.spec.template.spec.containers[0]?.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(deployment.spec.template.spec.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.match(read('release.yaml'), /^# slsa-ml \d+\.\d+\.\d+\S*: .*\n# Install with a values file/);
  });

  it('hack/render-release.sh refuses an image named by tag', async () => {
    const { code, out } = await command('bash', [join(repo, 'hack', 'render-release.sh'), 'ghcr.io/slsa-ml/slsa-ml:v1.0.0', join(assets, 'tagged')], { ...process.env, KUBECTL: kubectlPath() });
    assert.equal(code, 2);
    assert.match(out, /IMAGE must be NAME@sha256:<64 hex digits>/);
  });

  for (const signer of SIGNERS) {
    it(`kubectl apply -f release.yaml -f values-${signer}.yaml, and the seal key Secret: the API server accepts every object (server-side dry run)`, async () => {
      const out = await ok(kubectl(['apply', '--dry-run=server', '-f', asset('release.yaml'), '-f', asset(`values-${signer}.yaml`)]));
      const applied = out.trim().split('\n').filter((l) => l.endsWith('(server dry run)'));
      assert.equal(applied.length, 18, out);
      assert.match(out, /^configmap\/slsa-ml-config (created|configured|unchanged) \(server dry run\)$/m);
      assert.match(out, /^serviceaccount\/slsa-ml-operator (created|configured|unchanged) \(server dry run\)$/m);
      assert.match(out, /^deployment\.apps\/slsa-ml-operator (created|configured|unchanged) \(server dry run\)$/m);
      await ok(kubectl(['-n', 'slsa-ml-system', 'create', 'secret', 'generic', 'slsa-ml-seal', '--from-literal=key=' + 'k'.repeat(64), '--dry-run=server']));
    });
  }

  it("docs/gke.md's values.yaml, written from its variables, loads and is accepted with release.yaml; its image command finds the digest", async () => {
    const gke = readFileSync(join(repo, 'docs', 'gke.md'), 'utf8');
    const blocks = [...gke.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const exports = (blocks.find((b) => b.includes('export PROJECT_ID=')) ?? '').split('\n').filter((l) => l.startsWith('export ')).join('\n');
    const heredoc = blocks.find((b) => b.startsWith('cat > values.yaml <<EOF'));
    const image = blocks.flatMap((b) => b.split('\n')).find((l) => l.startsWith('export OPERATOR_IMAGE=$(sed'));
    assert.ok(exports.includes('BUILDER_ID') && heredoc && image, 'docs/gke.md still has its variables, the values.yaml heredoc and the image command');
    const dir = mkdtempSync(join(tmpdir(), 'slsa-ml-gke-'));
    cpSync(asset('release.yaml'), join(dir, 'release.yaml'));
    const out = await ok(command('bash', ['-c', `set -eu\ncd '${dir}'\n${exports}\n${heredoc}\n${image}\necho "$OPERATOR_IMAGE"`]));
    assert.equal(out.trim(), SAMPLE_IMAGE);
    const values = objects(readFileSync(join(dir, 'values.yaml'), 'utf8')) as unknown as Array<{ kind: string; data?: Record<string, string>; metadata: { annotations?: Record<string, string> } }>;
    assert.deepEqual(values.map((v) => v.kind), ['ConfigMap', 'ServiceAccount']);
    writeFileSync(join(dir, 'config.yaml'), values[0]?.data?.['config.yaml'] ?? '');
    const config = loadConfig(join(dir, 'config.yaml'), { SLSA_ML_SEAL_KEY_PATH: '/var/run/slsa-ml/seal/key' });
    assert.deepEqual(config.allowedPrefixes, ['gs://my-project-models/models/{namespace}/']);
    assert.equal(config.signer.kind === 'kms' ? config.signer.keyName : '', 'gcpkms://projects/my-project/locations/global/keyRings/slsa-ml/cryptoKeys/provenance/cryptoKeyVersions/1');
    assert.equal(config.builderId, 'https://slsa-ml.dev/operator/slsa-ml-us-central1');
    assert.equal(values[1]?.metadata.annotations?.['iam.gke.io/gcp-service-account'], 'slsa-ml-operator@my-project.iam.gserviceaccount.com');
    await ok(kubectl(['apply', '--dry-run=server', '-f', join(dir, 'release.yaml'), '-f', join(dir, 'values.yaml')]));
  });

  it('the same with server-side apply, as GitOps tools do', async () => {
    const out = await ok(kubectl(['apply', '--server-side', '--field-manager', 'slsa-ml-test', '--force-conflicts', '--dry-run=server', '-f', asset('release.yaml'), '-f', asset('values-kms.yaml')]));
    assert.equal(out.trim().split('\n').filter((l) => / serverside-applied \(server dry run\)$/.test(l)).length, 18, out);
  });

  describe('the optional monitoring components, against the real PodMonitoring and ServiceMonitor CRDs', () => {
    before(async () => {
      for (const crd of MONITORING_CRDS) {
        await ok(kubectl(['apply', '--server-side', '--field-manager', 'slsa-ml-test', '-f', await crdFile(crd)]));
        await established(crd.name);
      }
    });

    it('a kustomization with release.yaml, a values file and both components renders, and every object is accepted', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'slsa-ml-install-'));
      cpSync(asset('release.yaml'), join(dir, 'release.yaml'));
      cpSync(asset('values-kms.yaml'), join(dir, 'values.yaml'));
      const components = relative(dir, join(repo, 'manifests', 'components'));
      writeFileSync(join(dir, 'kustomization.yaml'), stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: ['release.yaml', 'values.yaml'],
        components: [`${components}/pod-monitoring`, `${components}/service-monitor`],
      }));
      const rendered = await ok(command(kubectlPath(), ['kustomize', dir]));
      const docs = objects(rendered);
      assert.equal(docs.length, 20);
      for (const kind of ['PodMonitoring', 'ServiceMonitor', 'ConfigMap', 'ServiceAccount', 'Deployment']) assert.ok(kinds(docs).includes(kind), kind);
      const scraped = docs.filter((d) => ['PodMonitoring', 'ServiceMonitor'].includes(String(d.kind))) as unknown as Array<{ spec: { selector: unknown; endpoints: unknown } }>;
      for (const monitor of scraped) {
        assert.deepEqual(monitor.spec.selector, { matchLabels: { 'app.kubernetes.io/name': 'slsa-ml-operator' } });
        assert.deepEqual(monitor.spec.endpoints, [{ port: 'http', path: '/metrics', interval: '30s' }]);
      }
      writeFileSync(join(dir, 'rendered.yaml'), rendered);
      const out = await ok(kubectl(['apply', '--dry-run=server', '-f', join(dir, 'rendered.yaml')]));
      assert.match(out, /^podmonitoring\.monitoring\.googleapis\.com\/slsa-ml-operator (created|configured|unchanged) \(server dry run\)$/m);
      assert.match(out, /^servicemonitor\.monitoring\.coreos\.com\/slsa-ml-operator (created|configured|unchanged) \(server dry run\)$/m);
    });

    it('the release assets pod-monitoring.yaml and service-monitor.yaml apply on their own', async () => {
      await ok(kubectl(['apply', '--dry-run=server', '-f', asset('pod-monitoring.yaml'), '-f', asset('service-monitor.yaml')]));
    });

    it('the CRDs really validate: a PodMonitoring with a scheme outside its enum is refused', async () => {
      const bad = read('pod-monitoring.yaml').replace('path: /metrics', 'path: /metrics\n      scheme: gopher');
      writeFileSync(join(assets, 'bad-pod-monitoring.yaml'), bad);
      const { code, out } = await kubectl(['apply', '--dry-run=server', '-f', join(assets, 'bad-pod-monitoring.yaml')]);
      assert.notEqual(code, 0, out);
      assert.match(out, /scheme/);
    });

    it('the scraped port is the one the Deployment and the Service name http', () => {
      const docs = objects(read('release.yaml'));
      const service = docs.find((d) => d.kind === 'Service') as unknown as { spec: { ports: Array<{ name: string; targetPort: string }> } };
      const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: Array<{ ports: Array<{ name: string; containerPort: number }> }> } } } };
      assert.deepEqual(service.spec.ports.map((p) => [p.name, p.targetPort]), [['http', 'http']]);
      assert.deepEqual(deployment.spec.template.spec.containers[0]?.ports.map((p) => p.name), ['http']);
    });
  });

  describe("release.yaml's RBAC, applied and checked with kubectl auth can-i as the operator ServiceAccount", () => {
    before(async () => {
      const rbac = objects(read('release.yaml')).filter((d) => /^(Cluster)?Role(Binding)?$/.test(String(d.kind)));
      assert.equal(rbac.length, 4);
      writeFileSync(join(assets, 'rbac.yaml'), rbac.map((d) => stringify(d)).join('---\n'));
      await ok(kubectl(['apply', '--server-side', '--field-manager', 'slsa-ml-test', '--force-conflicts', '-f', join(assets, 'rbac.yaml')]));
    });

    const can = async (verb: string, resource: string, ns?: string): Promise<boolean> => {
      // 'kind/subresource' or 'kind:objectName'
      const [kindAndName = resource, subresource] = resource.split('/');
      const [kind, objectName] = kindAndName.split(':');
      const target = objectName ? `${kind}/${objectName}` : (kind ?? resource);
      const { out } = await kubectl(['auth', 'can-i', verb, target, ...(subresource ? ['--subresource', subresource] : []), '--as', OPERATOR, ...(ns ? ['-n', ns] : ['--all-namespaces'])]);
      return out.trim().split('\n')[0] === 'yes';
    };

    it('allows exactly what the operator needs', async () => {
      for (const verb of ['get', 'list', 'watch', 'patch']) assert.ok(await can(verb, 'taskruns.tekton.dev'), `${verb} taskruns`);
      for (const verb of ['get', 'list', 'watch', 'patch']) assert.ok(await can(verb, 'pipelineruns.tekton.dev'), `${verb} pipelineruns`);
      assert.ok(await can('get', 'pods'));
      assert.ok(await can('get', 'nodes'));
      assert.ok(await can('create', 'events'));
      assert.ok(await can('create', 'leases.coordination.k8s.io', 'slsa-ml-system'), 'create leases');
      for (const verb of ['get', 'update']) assert.ok(await can(verb, 'leases.coordination.k8s.io:slsa-ml-operator', 'slsa-ml-system'), `${verb} its lease`);
    });

    it("refuses secrets (its own seal and signing keys included), TaskRun updates and status writes, pod creation and other namespaces' leases", async () => {
      for (const verb of ['get', 'list', 'watch']) assert.equal(await can(verb, 'secrets'), false, `${verb} secrets`);
      assert.equal(await can('get', 'secrets:slsa-ml-seal', 'slsa-ml-system'), false, 'the seal key reaches it as a volume only');
      assert.equal(await can('update', 'configmaps:slsa-ml-config', 'slsa-ml-system'), false, 'it cannot change its own configuration');
      assert.equal(await can('update', 'taskruns.tekton.dev'), false);
      assert.equal(await can('delete', 'taskruns.tekton.dev'), false);
      assert.equal(await can('update', 'taskruns.tekton.dev/status'), false);
      assert.equal(await can('patch', 'taskruns.tekton.dev/status'), false);
      for (const verb of ['update', 'delete', 'create']) assert.equal(await can(verb, 'pipelineruns.tekton.dev'), false, `${verb} pipelineruns`);
      assert.equal(await can('patch', 'pipelineruns.tekton.dev/status'), false);
      assert.equal(await can('get', 'pipelines.tekton.dev'), false, 'it reads what Tekton resolved (status.pipelineSpec), not the Pipeline');
      assert.equal(await can('create', 'pods'), false);
      assert.equal(await can('list', 'pods'), false);
      assert.equal(await can('create', 'leases.coordination.k8s.io', 'default'), false);
      assert.equal(await can('update', 'leases.coordination.k8s.io:another-controller', 'slsa-ml-system'), false);
    });
  });

  describe("release.yaml's metadata-only admission policy", () => {
    it('lets the operator change TaskRun metadata but not its spec', async () => {
      const env = testEnv();
      const admin = KubernetesObjectApi.makeApiClient(env.kubeConfig('admin'));
      const docs = objects(read('release.yaml')).filter((d) => d.metadata?.name === 'slsa-ml-operator-metadata-only');
      assert.deepEqual(kinds(docs), ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
      for (const doc of docs) await admin.patch(doc, undefined, undefined, 'slsa-ml-test', true, PatchStrategy.ServerSideApply);
      const ns = await newNamespace(env, 'vap');
      await createTaskRun(env.kubeConfig('admin'), trainingTaskRun(ns, 'guarded'));
      const operator = KubernetesObjectApi.makeApiClient(env.kubeConfig('operator'));
      const base = { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'guarded', namespace: ns } };
      // Policies take effect asynchronously after creation; retry the denial for a few seconds.
      let denied: unknown;
      for (let i = 0; i < 50 && !denied; i++) {
        denied = await operator.patch({ ...base, spec: { serviceAccountName: 'attacker' } } as KubernetesObject, undefined, 'All', 'slsa-ml-operator', true, PatchStrategy.ServerSideApply)
          .then(() => undefined, (err: unknown) => err);
        if (!denied) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(denied instanceof ApiException && denied.code === 422 && String(denied.body).includes('metadata only'), String(denied));
      await operator.patch({ ...base, metadata: { ...base.metadata, annotations: { 'slsa-ml.dev/signed': 'true' } } }, undefined, undefined, 'slsa-ml-operator', true, PatchStrategy.ServerSideApply);
    });
  });
});
