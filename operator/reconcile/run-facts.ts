// The Pod and Node facts of a TaskRun, taken only from a Pod that this very TaskRun owns:
// `status.podName` is a name, and a tenant can create a look-alike Pod under it (on a GPU node,
// say) before Tekton does. A Pod whose controlling owner is not this TaskRun's UID gives no
// facts, and the provenance says why.
import type { Node, Pod } from '../../src/provenance/index.ts';
import type { ClusterFacts, TaskRun } from '../kube/index.ts';

export interface RunFacts {
  readonly pod?: Pod;
  readonly node?: Node;
  readonly factsOmitted?: string;
}

export async function runFacts(facts: ClusterFacts, tr: TaskRun): Promise<RunFacts> {
  const podName = typeof tr.status?.podName === 'string' ? tr.status.podName : undefined;
  const pod = await facts.pod(tr.metadata.namespace, podName);
  if (!pod) return podName ? { factsOmitted: `pod ${podName} was not found or not readable` } : {};
  if (!controlledBy(pod, tr)) {
    return { factsOmitted: `pod ${podName ?? ''} is not controlled by this TaskRun (uid ${tr.metadata.uid}), so its node and accelerators are not attested` };
  }
  const node = await facts.node(pod.spec?.nodeName);
  return { pod: pod, ...(node ? { node: node } : {}) };
}

function controlledBy(pod: Pod, tr: TaskRun): boolean {
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true);
  return owner?.kind === 'TaskRun' && owner.uid === tr.metadata.uid;
}
