// Installs the official Tekton Pipelines CRDs. No Tekton webhook runs here, so each CRD keeps
// only its storage version and no conversion webhook (spec.conversion strategy None).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { applyCrd, waitEstablished } from './crds.ts';

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

export async function installTektonCrds(kc: KubeConfig, dir: string): Promise<string[]> {
  const crds = loadTektonCrds(dir);
  const names = crds.map((c) => c.metadata?.name ?? '');
  await Promise.all(crds.map((crd, i) => applyCrd(kc, names[i] ?? '', JSON.stringify(crd))));
  await waitEstablished(kc, names);
  return names;
}
