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

export function generateIdentities(): Identity[] {
  const token = (): string => randomBytes(24).toString('hex');
  return [
    { name: 'admin', user: 'slsa-ml-admin', groups: ['system:masters'], token: token() },
    { name: 'restricted', user: 'slsa-ml-restricted', groups: [], token: token() },
    {
      // Same user name and groups as the operator's ServiceAccount token carries in a cluster,
      // so RoleBindings from manifests/ apply to it unchanged.
      name: 'operator',
      user: `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${OPERATOR_NAMESPACE}`],
      token: token(),
    },
  ];
}

/** The --token-auth-file format: token,user,uid,"group1,group2". */
export function tokenFile(identities: readonly Identity[]): string {
  return identities.map((i) => `${i.token},${i.user},${i.user},"${i.groups.join(',')}"`).join('\n') + '\n';
}
