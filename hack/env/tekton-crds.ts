// Installs the official Tekton Pipelines CRDs. No Tekton webhook runs here, so each CRD keeps
// only its storage version and no conversion webhook (spec.conversion strategy None).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import https from 'node:https';
import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
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

export async function installTektonCrds(kc: KubeConfig, dir: string): Promise<string[]> {
  const crds = loadTektonCrds(dir);
  await Promise.all(crds.map((crd) => applyRaw(kc, crd)));
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names = crds.map((c) => c.metadata?.name ?? '');
  for (const name of names) await waitEstablished(api, name);
  return names;
}

// Sent as raw JSON: client-node's typed serializer would drop schema keys it only knows by
// their TypeScript names (x-kubernetes-preserve-unknown-fields and friends).
async function applyRaw(kc: KubeConfig, crd: V1CustomResourceDefinition): Promise<void> {
  const name = crd.metadata?.name ?? '';
  const url = new URL(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}?fieldManager=slsa-ml-env&force=true`, kc.getCurrentCluster()?.server);
  const options: https.RequestOptions = { method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' } };
  await kc.applyToHTTPSOptions(options);
  await new Promise<void>((resolve, reject) => {
    const req = https.request(url, options, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`applying CRD ${name}: ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(crd));
  });
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
