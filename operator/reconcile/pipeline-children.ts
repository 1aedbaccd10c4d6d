// The child TaskRuns of a PipelineRun, read live, each with the facts of the Pod it owns. Which
// children there are comes from the PipelineRun's status.childReferences (written by the Tekton
// controller); a child counts only if its controlling ownerReference is this PipelineRun's UID.
// No provenance is built from partial data: a child that is gone (pruned before the PipelineRun
// completed) or that another owner controls fails the run, naming it.
import type { PipelineChild, TaskRun as ProvenanceTaskRun } from '../../src/provenance/index.ts';
import { controllingPipelineRun, type ClusterFacts, type TaskRun, type TektonRuns } from '../kube/index.ts';
import { ReconcileFailure } from './failure.ts';
import { runFacts } from './run-facts.ts';

export interface ChildReference {
  readonly name: string;
  readonly pipelineTask: string;
}

/** Children read at once: a 20-task pipeline is read in three rounds of requests. */
const READ_CONCURRENCY = 8;

/** The TaskRuns Tekton lists as this PipelineRun's children (custom runs are not inspected). */
export function childReferences(pr: TaskRun): ChildReference[] {
  const refs = Array.isArray(pr.status?.childReferences) ? (pr.status.childReferences as unknown[]) : [];
  return refs.flatMap((ref): ChildReference[] => {
    const r = (ref ?? {}) as { kind?: unknown; name?: unknown; pipelineTaskName?: unknown };
    if (r.kind !== 'TaskRun' || typeof r.name !== 'string' || r.name === '') return [];
    return [{ name: r.name, pipelineTask: typeof r.pipelineTaskName === 'string' ? r.pipelineTaskName : '' }];
  });
}

/** Every child, live, in childReferences order, with its Pod's node and accelerator facts. */
export async function readChildren(taskRuns: TektonRuns, facts: ClusterFacts, pr: TaskRun): Promise<PipelineChild[]> {
  const refs = childReferences(pr);
  const children: PipelineChild[] = new Array<PipelineChild>(refs.length);
  for (let start = 0; start < refs.length; start += READ_CONCURRENCY) {
    await Promise.all(refs.slice(start, start + READ_CONCURRENCY).map(async (ref, i) => {
      children[start + i] = await readChild(taskRuns, facts, pr, ref);
    }));
  }
  return children;
}

async function readChild(taskRuns: TektonRuns, facts: ClusterFacts, pr: TaskRun, ref: ChildReference): Promise<PipelineChild> {
  const tr = await taskRuns.get(pr.metadata.namespace, ref.name);
  const task = `pipeline task ${ref.pipelineTask} (TaskRun ${ref.name})`;
  if (!tr) {
    throw new ReconcileFailure('CHILD_TASKRUN_MISSING', `${task} no longer exists (pruned or deleted before the PipelineRun was attested); no provenance is built from part of a pipeline`);
  }
  if (controllingPipelineRun(tr.metadata)?.uid !== pr.metadata.uid) {
    throw new ReconcileFailure('CHILD_NOT_OWNED', `${task} is not controlled by this PipelineRun (uid ${pr.metadata.uid}): it was replaced by another object under the same name`);
  }
  const placement = await runFacts(facts, tr);
  return { pipelineTask: ref.pipelineTask, taskRun: tr as unknown as ProvenanceTaskRun, ...placement };
}

/** Whether any child declares a model output while running (status.taskSpec): then the PipelineRun is held. */
export async function anyChildDeclaresOutputs(taskRuns: TektonRuns, pr: TaskRun, declares: (status: never) => boolean): Promise<boolean> {
  for (const ref of childReferences(pr)) {
    const tr = await taskRuns.get(pr.metadata.namespace, ref.name);
    if (tr && controllingPipelineRun(tr.metadata)?.uid === pr.metadata.uid && declares((tr.status ?? {}) as never)) return true;
  }
  return false;
}
