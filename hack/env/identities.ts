// Static token identities of the local API server. The admin bypasses RBAC (system:masters);
// the others hold only what RBAC grants them, so permission checks in tests are real.
import { randomBytes } from 'node:crypto';

export interface Identity {
  readonly name: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly token: string;
}

export const OPERATOR_NAMESPACE = 'slsa-ml-system';
export const OPERATOR_SERVICE_ACCOUNT = 'slsa-ml-operator';
export const TEKTON_NAMESPACE = 'tekton-pipelines';
export const TEKTON_RESOLVERS_NAMESPACE = 'tekton-pipelines-resolvers';

/** A ServiceAccount's identity as its token presents it (user name and groups). */
function serviceAccount(name: string, namespace: string, sa: string, token: string): Identity {
  return {
    name,
    user: `system:serviceaccount:${namespace}:${sa}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
    token,
  };
}

export function generateIdentities(): Identity[] {
  const token = (): string => randomBytes(24).toString('hex');
  return [
    { name: 'admin', user: 'slsa-ml-admin', groups: ['system:masters'], token: token() },
    { name: 'restricted', user: 'slsa-ml-restricted', groups: [], token: token() },
    // A tenant: writes Tekton objects and Pods in the namespaces a test binds it to (attack tests).
    { name: 'tenant', user: 'slsa-ml-tenant', groups: ['slsa-ml:tenants'], token: token() },
    // Same user name and groups as the operator's ServiceAccount token carries in a cluster,
    // so RoleBindings from manifests/ apply to it unchanged.
    serviceAccount('operator', OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, token()),
    // Tekton's controller and resolvers hold exactly the rights of Tekton's own release RBAC.
    serviceAccount('tekton', TEKTON_NAMESPACE, 'tekton-pipelines-controller', token()),
    serviceAccount('tekton-resolvers', TEKTON_RESOLVERS_NAMESPACE, 'tekton-pipelines-resolvers', token()),
    // The user the API server's bootstrap RBAC grants the scheduler's rights to.
    { name: 'scheduler', user: 'system:kube-scheduler', groups: [], token: token() },
    // kwok plays every kubelet (node and pod status, node leases), as a node-authorizer-free admin.
    { name: 'kwok', user: 'slsa-ml-kwok', groups: ['system:masters'], token: token() },
  ];
}

/** The --token-auth-file format: token,user,uid,"group1,group2". */
export function tokenFile(identities: readonly Identity[]): string {
  return identities.map((i) => `${i.token},${i.user},${i.user},"${i.groups.join(',')}"`).join('\n') + '\n';
}
