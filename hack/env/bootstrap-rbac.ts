// What the restricted test identity may do: read TaskRuns, nothing else. Tests assert both sides.
// The tenant identity gets TENANT_ROLE, which tests bind in their own namespaces only.
import type { KubeConfig} from '@kubernetes/client-node';
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';

export const RESTRICTED_ROLE = 'slsa-ml-env:taskrun-reader';
/** A tenant's rights in a namespace (what Tekton's aggregate edit role and Pod access give). */
export const TENANT_ROLE = 'slsa-ml-env:tenant';

export async function applyRestrictedRbac(kc: KubeConfig, restrictedUser: string): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const docs: KubernetesObject[] = [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: RESTRICTED_ROLE },
      rules: [{ apiGroups: ['tekton.dev'], resources: ['taskruns'], verbs: ['get', 'list', 'watch'] }],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: RESTRICTED_ROLE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: RESTRICTED_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: restrictedUser }],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: TENANT_ROLE },
      rules: [
        {
          apiGroups: ['tekton.dev'],
          resources: ['tasks', 'taskruns', 'pipelines', 'pipelineruns', 'stepactions', 'customruns'],
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      ],
    } as KubernetesObject,
  ];
  for (const doc of docs) await objects.patch(doc, undefined, undefined, 'slsa-ml-env', true, PatchStrategy.ServerSideApply);
}
