// The child runs of a PipelineRun, read live. Which children there are comes from the
// PipelineRun's status.childReferences (written by the Tekton controller); a child counts only if
// its controlling ownerReference is this PipelineRun's UID (who may write such a reference is the
// admission policy's business: manifests/base/pipeline-children-policy.yaml). Children are read in
// two steps: their TaskRuns first, kept only in the fields the statement reads (a child's
// annotations, its full task spec and the like are dropped, so memory follows the statement, not
// what a tenant packs into its runs); then, only for a run that has a model to attest, the Pod and
// Node behind each. A child that is gone or another owner controls is reported, not skipped: the
// caller decides whether that makes the provenance partial. A child whose Pod another controls
// refuses the run outright.
import type { PipelineChild, TaskRun as ProvenanceTaskRun } from '../../src/provenance/index.ts';
import { controllingPipelineRun, type ClusterFacts, type TaskRun, type TektonRuns } from '../kube/index.ts';
import { declaresOutputs } from './classify.ts';
import { ReconcileFailure } from './failure.ts';
import { runFacts } from './run-facts.ts';

export interface ChildReference {
  readonly kind: string;
  readonly name: string;
  readonly pipelineTask: string;
}

/** Children read at once: a 20-task pipeline is read in three rounds of requests. */
const READ_CONCURRENCY = 8;

export interface ChildRuns {
  /** The TaskRuns that are there and controlled by the PipelineRun, in childReferences order. */
  readonly present: PipelineChild[];
  /** Why the others could not be used (gone, or controlled by something else). */
  readonly problems: ReconcileFailure[];
  /** Children of other kinds (CustomRun, a child PipelineRun): listed, not inspected. */
  readonly uninspected: ChildReference[];
}

/** Every child Tekton lists for this PipelineRun. */
export function childReferences(pr: TaskRun): ChildReference[] {
  const refs = Array.isArray(pr.status?.childReferences) ? (pr.status.childReferences as unknown[]) : [];
  return refs.flatMap((ref): ChildReference[] => {
    const r = (ref ?? {}) as { kind?: unknown; name?: unknown; pipelineTaskName?: unknown };
    if (typeof r.name !== 'string' || r.name === '') return [];
    return [{ kind: typeof r.kind === 'string' ? r.kind : '', name: r.name, pipelineTask: typeof r.pipelineTaskName === 'string' ? r.pipelineTaskName : '' }];
  });
}

/** The child TaskRuns, live and trimmed, without their Pods; at most `limit` of them. */
export async function readChildRuns(taskRuns: TektonRuns, pr: TaskRun, limit: number): Promise<ChildRuns> {
  const refs = childReferences(pr);
  if (refs.length > limit) {
    throw new ReconcileFailure('PIPELINE_TOO_LARGE', `the PipelineRun has ${refs.length} child runs, more than limits.pipelineTaskRuns (${limit}); nothing was read or written`);
  }
  const ofTaskRuns = refs.filter((r) => r.kind === 'TaskRun');
  const read = new Array<PipelineChild | ReconcileFailure>(ofTaskRuns.length);
  for (let start = 0; start < ofTaskRuns.length; start += READ_CONCURRENCY) {
    await Promise.all(ofTaskRuns.slice(start, start + READ_CONCURRENCY).map(async (ref, i) => {
      read[start + i] = await readChild(taskRuns, pr, ref);
    }));
  }
  return {
    present: read.filter((c): c is PipelineChild => !(c instanceof ReconcileFailure)),
    problems: read.filter((c): c is ReconcileFailure => c instanceof ReconcileFailure),
    uninspected: refs.filter((r) => r.kind !== 'TaskRun'),
  };
}

/**
 * Adds each child's Pod and Node facts (from the Pod that child controls). A child whose Pod is
 * there and controlled by something else throws POD_NOT_OWNED (run-facts.ts): its results are
 * another Pod's.
 */
export async function withPlacement(facts: ClusterFacts, children: readonly PipelineChild[]): Promise<PipelineChild[]> {
  const placed = new Array<PipelineChild>(children.length);
  for (let start = 0; start < children.length; start += READ_CONCURRENCY) {
    await Promise.all(children.slice(start, start + READ_CONCURRENCY).map(async (child, i) => {
      const tr = child.taskRun as unknown as TaskRun;
      placed[start + i] = { ...child, ...(await runFacts(facts, tr, `pipeline task ${child.pipelineTask} (TaskRun ${tr.metadata.name})`)) };
    }));
  }
  return placed;
}

async function readChild(taskRuns: TektonRuns, pr: TaskRun, ref: ChildReference): Promise<PipelineChild | ReconcileFailure> {
  const tr = await taskRuns.get(pr.metadata.namespace, ref.name);
  const task = `pipeline task ${ref.pipelineTask} (TaskRun ${ref.name})`;
  if (!tr) {
    return new ReconcileFailure('CHILD_TASKRUN_MISSING', `${task} no longer exists (pruned or deleted before the PipelineRun was attested); no provenance is built from part of a pipeline`);
  }
  if (controllingPipelineRun(tr.metadata)?.uid !== pr.metadata.uid) {
    return new ReconcileFailure('CHILD_NOT_OWNED', `${task} is not controlled by this PipelineRun (uid ${pr.metadata.uid}): it was replaced by another object under the same name`);
  }
  // Tekton creates a child while its PipelineRun runs; one created later was put there by someone else.
  const created = Date.parse(String(tr.metadata.creationTimestamp ?? ''));
  const completed = Date.parse(String(pr.status?.completionTime ?? ''));
  if (!Number.isNaN(created) && !Number.isNaN(completed) && created > completed) {
    return new ReconcileFailure('CHILD_NOT_OWNED', `${task} was created at ${new Date(created).toISOString()}, after the PipelineRun completed (${new Date(completed).toISOString()}): Tekton did not create it for this run`);
  }
  return { pipelineTask: ref.pipelineTask, taskRun: trimmed(tr) };
}

/**
 * What the pipeline statement reads of a child: its name, UID and owner; its params (source
 * hints); its status' results, steps, sidecars, provenance, times, conditions, Pod name, the
 * number of earlier attempts and its task's param defaults. Nothing else is kept.
 */
function trimmed(tr: TaskRun): ProvenanceTaskRun {
  const { name, namespace, uid, ownerReferences } = tr.metadata;
  const status = tr.status ?? {};
  const pick = (source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> =>
    Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
  const taskSpec = status.taskSpec as { params?: unknown } | undefined;
  const retries = Array.isArray(status.retriesStatus) ? status.retriesStatus.map(() => ({})) : undefined;
  return {
    apiVersion: tr.apiVersion,
    kind: tr.kind,
    metadata: { name, namespace, uid, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: pick(tr.spec ?? {}, ['params']),
    status: {
      ...pick(status, ['results', 'steps', 'sidecars', 'provenance', 'startTime', 'completionTime', 'conditions', 'podName']),
      ...(retries ? { retriesStatus: retries } : {}),
      ...(taskSpec?.params !== undefined ? { taskSpec: { params: taskSpec.params } } : {}),
    },
  };
}

/** Whether any child declares a model output while running (status.taskSpec): then the PipelineRun is held. */
export async function anyChildDeclaresOutputs(taskRuns: TektonRuns, pr: TaskRun): Promise<boolean> {
  for (const ref of childReferences(pr).filter((r) => r.kind === 'TaskRun')) {
    const tr = await taskRuns.get(pr.metadata.namespace, ref.name);
    if (tr && controllingPipelineRun(tr.metadata)?.uid === pr.metadata.uid && declaresOutputs(tr.status ?? {})) return true;
  }
  return false;
}
