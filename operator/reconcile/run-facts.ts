// Whose Pod a TaskRun's status comes from, and that Pod's Node facts. Tekton v1.9 creates a
// TaskRun's Pod under a fixed name (`<taskrun>-pod`) and, when that name is taken, uses the Pod
// already there and copies its results into the TaskRun's status without checking who controls it
// (pkg/reconciler/taskrun createPod, on AlreadyExists): an orphan of a TaskRun deleted with
// `--cascade=orphan` and re-created under the same name, or a look-alike a tenant created first.
// So a Pod that exists and is not controlled by this TaskRun's UID refuses the run: its results
// (the models) are another Pod's. A Pod that is gone (pruned) or unreadable leaves Tekton's status
// as all there is: the run is attested without Pod and Node facts, and the provenance says why.
import type { Node, Pod } from '../../src/provenance/index.ts';
import type { ClusterFacts, TaskRun } from '../kube/index.ts';
import { ReconcileFailure } from './failure.ts';

export interface RunFacts {
  readonly pod?: Pod;
  readonly node?: Node;
  readonly factsOmitted?: string;
}

/**
 * The run's own Pod (or why there is none to read); throws POD_NOT_OWNED for a Pod another
 * controls. `subject` names the run in the reason (a pipeline task adds its task name).
 */
export async function ownPod(facts: ClusterFacts, tr: TaskRun, subject = `TaskRun ${tr.metadata.name}`): Promise<RunFacts> {
  const podName = typeof tr.status?.podName === 'string' ? tr.status.podName : undefined;
  const pod = await facts.pod(tr.metadata.namespace, podName);
  if (!pod) return podName ? { factsOmitted: `pod ${podName} was not found or not readable` } : {};
  const refusal = podNotOwned(pod, tr, subject);
  if (refusal) throw refusal;
  return { pod: pod };
}

/** Adds the Node the run's own Pod ran on. */
export async function withNode(facts: ClusterFacts, own: RunFacts): Promise<RunFacts> {
  const node = own.pod ? await facts.node(own.pod.spec?.nodeName) : undefined;
  return { ...own, ...(node ? { node: node } : {}) };
}

export async function runFacts(facts: ClusterFacts, tr: TaskRun, subject?: string): Promise<RunFacts> {
  return withNode(facts, await ownPod(facts, tr, subject));
}

/** Why `pod` is not the Pod Tekton created for `tr`; undefined when its controller is `tr`'s UID. */
export function podNotOwned(pod: Pod, tr: TaskRun, subject = `TaskRun ${tr.metadata.name}`): ReconcileFailure | undefined {
  const controller = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true);
  if (controller?.kind === 'TaskRun' && controller.uid === tr.metadata.uid) return undefined;
  const why = controller ? `its controller is ${String(controller.kind)} ${String(controller.name)} (uid ${String(controller.uid)})` : orphan(pod, tr);
  return new ReconcileFailure('POD_NOT_OWNED',
    `pod ${pod.metadata?.name ?? ''} of ${subject} (status.podName) is not controlled by that TaskRun (uid ${tr.metadata.uid}): ${why}; Tekton copied that Pod's results into the run's status, so none of them is attested`);
}

function orphan(pod: Pod, tr: TaskRun): string {
  // Only a hint (whoever creates a Pod sets its labels), but it names the run an orphan was made for.
  const madeFor = pod.metadata?.labels?.['tekton.dev/taskRunUID'];
  const label = madeFor && madeFor !== tr.metadata.uid ? ` labelled for TaskRun uid ${madeFor}` : '';
  return `it has no controller (an orphan${label}, or a Pod created by hand)`;
}
