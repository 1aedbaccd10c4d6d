// One kubeconfig with a context per identity; the current context is the admin's.
import { stringify } from 'yaml';
import type { Identity } from './identities.ts';

export function kubeconfigYaml(server: string, caPem: string, identities: readonly Identity[], current = 'admin'): string {
  const ca = Buffer.from(caPem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'slsa-ml-local', cluster: { server, 'certificate-authority-data': ca } }],
    users: identities.map((i) => ({ name: i.name, user: { token: i.token } })),
    contexts: identities.map((i) => ({ name: i.name, context: { cluster: 'slsa-ml-local', user: i.name } })),
    'current-context': current,
  });
}

/** A kubeconfig holding one identity only, for a component that must not see the others' tokens. */
export function componentKubeconfigYaml(server: string, caPem: string, identity: Identity): string {
  return kubeconfigYaml(server, caPem, [identity], identity.name);
}
