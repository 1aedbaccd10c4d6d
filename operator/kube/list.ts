// Paginated LIST of a collection path, returning the collection's resourceVersion to watch from.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

export interface ObjectWithMeta {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string | Date; finalizers?: string[]; annotations?: Record<string, string>; labels?: Record<string, string> };
  status?: unknown;
}

interface ListResponse {
  items: ObjectWithMeta[];
  metadata?: { resourceVersion?: string; continue?: string };
}

const PAGE = 500;

export interface CollectionPath {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
}

export function parseCollectionPath(path: string): CollectionPath {
  const m = /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)$/.exec(path);
  if (!m?.[1] || !m[2] || !m[4]) throw new Error(`not a collection path: ${path}`);
  return { group: m[1], version: m[2], plural: m[4], ...(m[3] ? { namespace: m[3] } : {}) };
}

export async function listAll(kc: KubeConfig, path: string, labelSelector?: string): Promise<{ items: ObjectWithMeta[]; resourceVersion: string }> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const c = parseCollectionPath(path);
  const items: ObjectWithMeta[] = [];
  let cont: string | undefined;
  let resourceVersion = '';
  do {
    const common = { group: c.group, version: c.version, plural: c.plural, limit: PAGE, ...(cont ? { _continue: cont } : {}), ...(labelSelector ? { labelSelector } : {}) };
    const page = (c.namespace
      ? await api.listNamespacedCustomObject({ ...common, namespace: c.namespace })
      : await api.listClusterCustomObject(common)) as ListResponse;
    items.push(...page.items);
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return { items, resourceVersion };
}
