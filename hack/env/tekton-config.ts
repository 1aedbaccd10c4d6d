// Installs what a Tekton Pipelines release installs besides its Deployments: its namespaces,
// ServiceAccounts, RBAC and ConfigMaps, for the controller and the remote resolvers. The
// processes then run here under exactly those rights and that configuration. Webhook objects,
// Deployments and Services are left out: nothing here runs in a Pod (see tekton-controller.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

const KINDS = ['Namespace', 'ServiceAccount', 'ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding', 'ConfigMap'];

export function loadTektonConfig(dir: string): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const part of ['pipelines', 'resolvers']) {
    for (const file of readdirSync(join(dir, part)).filter((f) => f.endsWith('.yaml')).sort()) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, part, file), 'utf8'))) {
        if (doc.errors.length > 0) throw new Error(`${part}/${file}: ${doc.errors[0]?.message}`);
        const object = doc.toJS() as KubernetesObject | null;
        if (object?.kind && KINDS.includes(object.kind)) objects.push(object);
      }
    }
  }
  if (!objects.some((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'feature-flags')) {
    throw new Error(`${dir} holds no Tekton feature-flags ConfigMap: run \`bash hack/install-tools.sh tekton-config\``);
  }
  return objects;
}

export async function installTektonConfig(kc: KubeConfig, dir: string): Promise<number> {
  const objects = loadTektonConfig(dir);
  const api = KubernetesObjectApi.makeApiClient(kc);
  const apply = (o: KubernetesObject): Promise<unknown> => api.patch(o, undefined, undefined, 'slsa-ml-env', true, PatchStrategy.ServerSideApply);
  // Namespaces first: everything else lives in them.
  for (const ns of objects.filter((o) => o.kind === 'Namespace')) await apply(ns);
  await Promise.all(objects.filter((o) => o.kind !== 'Namespace').map(apply));
  return objects.length;
}
