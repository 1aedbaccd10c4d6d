// Applying CustomResourceDefinitions to the local API server, and waiting until they serve.
import { setTimeout as sleep } from 'node:timers/promises';
import https from 'node:https';
import { ApiextensionsV1Api, type KubeConfig } from '@kubernetes/client-node';

/**
 * Server-side applies one CRD sent as raw text (JSON or YAML; `application/apply-patch+yaml` takes
 * both): client-node's typed serializer would drop schema keys it only knows by their TypeScript
 * names (x-kubernetes-preserve-unknown-fields and friends), and a YAML file sent as it is costs no
 * parsing here (the API server parses it, off this process).
 */
export async function applyCrd(kc: KubeConfig, name: string, body: string): Promise<void> {
  const url = new URL(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}?fieldManager=slsa-ml-env&force=true`, kc.getCurrentCluster()?.server);
  const options: https.RequestOptions = { method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' } };
  await kc.applyToHTTPSOptions(options);
  await new Promise<void>((resolve, reject) => {
    const req = https.request(url, options, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`applying CRD ${name}: ${res.statusCode} ${text.slice(0, 2000)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function waitEstablished(kc: KubeConfig, names: readonly string[]): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const name of names) await waitOne(api, name);
}

async function waitOne(api: ApiextensionsV1Api, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const crd = await api.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await sleep(100);
  }
  throw new Error(`CRD ${name} not Established after 30 s`);
}
