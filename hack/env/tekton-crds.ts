// Installs the official Tekton Pipelines CRDs. No Tekton webhook runs here, so each CRD keeps
// only its storage version and no conversion webhook (spec.conversion strategy None).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig} from '@kubernetes/client-node';
import { ApiextensionsV1Api, KubernetesObjectApi, PatchStrategy, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

export function loadTektonCrds(dir: string): V1CustomResourceDefinition[] {
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const crd = doc.toJS() as V1CustomResourceDefinition | null;
      if (crd?.kind === 'CustomResourceDefinition') crds.push(withoutWebhook(crd));
    }
  }
  if (crds.length === 0) throw new Error(`no CustomResourceDefinition found in ${dir}`);
  return crds;
}

function withoutWebhook(crd: V1CustomResourceDefinition): V1CustomResourceDefinition {
  const versions = crd.spec.versions.filter((v) => v.storage);
  return { ...crd, spec: { ...crd.spec, versions, conversion: { strategy: 'None' } } };
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

// The v1beta1 CustomRun schema declare untyped preserve-unknown fields, which the
// 1.34 API server rejects ("must not be empty for specified object fields"). Such a field is
// removed from `properties` and its parent preserves unknown fields, so it is still stored as is.
function repairUntypedFields(node: SchemaNode): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    if (child.type === undefined && child['x-kubernetes-preserve-unknown-fields'] === true) {
      delete node.properties?.[name];
      node['x-kubernetes-preserve-unknown-fields'] = true;
    } else {
      repairUntypedFields(child);
    }
  }
  if (node.items) repairUntypedFields(node.items);
}

export async function installTektonCrds(kc: KubeConfig, dir: string): Promise<string[]> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const crds = loadTektonCrds(dir);
  const apply = (crd: V1CustomResourceDefinition): Promise<unknown> =>
    objects.patch(crd, undefined, undefined, 'slsa-ml-env', true, PatchStrategy.ServerSideApply);
  await Promise.all(crds.map(async (crd) => {
    try {
      await apply(crd);
    } catch (err) {
      if (!String((err as { body?: unknown }).body).includes('must not be empty for specified object fields')) throw err;
      for (const v of crd.spec.versions) if (v.schema?.openAPIV3Schema) repairUntypedFields(v.schema.openAPIV3Schema);
      await apply(crd);
    }
  }));
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names = crds.map((c) => c.metadata?.name ?? '');
  for (const name of names) await waitEstablished(api, name);
  return names;
}

async function waitEstablished(api: ApiextensionsV1Api, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const crd = await api.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await sleep(100);
  }
  throw new Error(`CRD ${name} not Established after 30 s`);
}
