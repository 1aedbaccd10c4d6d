import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { ApiException, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { newNamespace, testEnv } from '../harness/index.ts';
import { applyOperatorRbac } from '../support/operator-process.ts';
import { createTaskRun, trainingTaskRun } from '../support/tekton.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const OPERATOR = 'system:serviceaccount:slsa-ml-system:slsa-ml-operator';

async function kubectl(args: string[]): Promise<{ code: number; out: string }> {
  const env = testEnv();
  try {
    const { stdout, stderr } = await run(requireTool(toolPaths().kubectl, 'kubectl'), ['--kubeconfig', env.kubeconfigPath, '--context', 'admin', ...args]);
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function render(overlay: string): Promise<KubernetesObject[]> {
  const { code, out } = await kubectl(['kustomize', join(repo, 'manifests', 'overlays', overlay)]);
  assert.equal(code, 0, out);
  return parseAllDocuments(out).map((d) => d.toJS() as KubernetesObject);
}

describe('the deployment manifests', () => {
  before(async () => {
    await applyOperatorRbac(testEnv());
  });

  for (const overlay of ['key', 'kms', 'sigstore']) {
    it(`overlay ${overlay}: every object is accepted by the real API server (server-side dry run)`, async () => {
      const objects = KubernetesObjectApi.makeApiClient(testEnv().kubeConfig('admin'));
      const docs = await render(overlay);
      assert.deepEqual(
        [...new Set(docs.map((d) => d.kind))].sort(),
        ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'],
      );
      for (const doc of docs) {
        await objects.patch(doc, undefined, 'All', 'slsa-ml-test', true, PatchStrategy.ServerSideApply)
          .catch((err: unknown) => assert.fail(`${doc.kind}/${doc.metadata?.name}: ${err instanceof ApiException ? String(err.body) : String(err)}`));
      }
      const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as { spec: { replicas: number; template: { spec: { containers: Array<{ securityContext: Record<string, unknown> }>; securityContext: Record<string, unknown> } } } };
      assert.equal(deployment.spec.replicas, 2);
      assert.equal(deployment.spec.template.spec.containers[0]?.securityContext.readOnlyRootFilesystem, true);
      assert.deepEqual(deployment.spec.template.spec.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    });
  }

  describe('RBAC, checked with kubectl auth can-i as the operator ServiceAccount', () => {
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
      assert.ok(await can('get', 'pods'));
      assert.ok(await can('get', 'nodes'));
      assert.ok(await can('create', 'events'));
      assert.ok(await can('create', 'leases.coordination.k8s.io', 'slsa-ml-system'), 'create leases');
      for (const verb of ['get', 'update']) assert.ok(await can(verb, 'leases.coordination.k8s.io:slsa-ml-operator', 'slsa-ml-system'), `${verb} its lease`);
    });

    it('refuses secrets, TaskRun updates and status writes, pod creation and other namespaces\' leases', async () => {
      for (const verb of ['get', 'list', 'watch']) assert.equal(await can(verb, 'secrets'), false, `${verb} secrets`);
      assert.equal(await can('update', 'taskruns.tekton.dev'), false);
      assert.equal(await can('delete', 'taskruns.tekton.dev'), false);
      assert.equal(await can('update', 'taskruns.tekton.dev/status'), false);
      assert.equal(await can('patch', 'taskruns.tekton.dev/status'), false);
      assert.equal(await can('create', 'pods'), false);
      assert.equal(await can('list', 'pods'), false);
      assert.equal(await can('create', 'leases.coordination.k8s.io', 'default'), false);
      assert.equal(await can('update', 'leases.coordination.k8s.io:another-controller', 'slsa-ml-system'), false);
    });
  });

  describe('the metadata-only admission policy', () => {
    it('lets the operator change TaskRun metadata but not its spec', async () => {
      const env = testEnv();
      const admin = KubernetesObjectApi.makeApiClient(env.kubeConfig('admin'));
      const docs = parseAllDocuments((await import('node:fs')).readFileSync(join(repo, 'manifests', 'base', 'admission-policy.yaml'), 'utf8')).map((d) => d.toJS() as KubernetesObject);
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
