// A finished PipelineRun and its child TaskRuns, as saved with kubectl: in one file (YAML
// documents, a List, or both) or the PipelineRun in one and its TaskRuns in others. The children
// are the PipelineRun's status.childReferences, each matched to a TaskRun given by name. Nothing is
// attested from part of a run: a child reference without its TaskRun is an input error naming it,
// and a TaskRun that the PipelineRun does not control (another run's, a stray file) is refused.
import type { PipelineChild, PipelineRun, TaskRun } from '../../provenance/index.ts';
import { InputError, RefusedError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { isRecord, kindOf, readKubeObjects, type KubeObject } from './kube-file.ts';
import { checkChildTaskRun, checkPipelineRun } from './taskrun-checks.ts';

export interface PipelineInput {
  readonly pipelineRun: PipelineRun;
  /** In the order of the PipelineRun's status.childReferences. */
  readonly children: PipelineChild[];
  /** Children that are not TaskRuns (custom runs, child PipelineRuns): named in the statement, not inspected, as the operator does. */
  readonly uninspected: Array<{ pipelineTask: string; kind: string; name: string }>;
}

interface Given {
  readonly object: KubeObject;
  /** The flag and file it came from, for messages. */
  readonly where: string;
}

export async function readPipelineInput(pipelineRunPath: string, taskRunPaths: readonly string[], io: CliIo): Promise<PipelineInput> {
  const fromPipelineRunFile = await readGiven('--pipelinerun', pipelineRunPath, io);
  const runs = fromPipelineRunFile.filter((g) => g.object.kind === 'PipelineRun');
  const where = `--pipelinerun ${pipelineRunPath}`;
  if (runs.length !== 1) throw new InputError('BAD_KUBE_OBJECT', `${where}: holds ${runs.length} PipelineRuns; give exactly one (and, in the same file or with --taskruns, its TaskRuns)`);
  const pipelineRun = checkPipelineRun((runs[0] as Given).object, where);
  const taskRuns = fromPipelineRunFile.filter((g) => g.object.kind !== 'PipelineRun');
  for (const path of taskRunPaths) taskRuns.push(...(await readGiven('--taskruns', path, io)));
  for (const g of taskRuns) {
    if (g.object.kind !== 'TaskRun') throw new InputError('BAD_KUBE_OBJECT', `${g.where}: holds a ${kindOf(g.object)}; give only the PipelineRun and its TaskRuns`);
  }
  const uninspected = otherChildren(pipelineRun);
  return { pipelineRun, children: matchChildren(pipelineRun, byName(taskRuns)), uninspected };
}

async function readGiven(flag: string, path: string, io: CliIo): Promise<Given[]> {
  return (await readKubeObjects(flag, path, io)).map((object) => ({ object, where: `${flag} ${path}` }));
}

// kubectl output for overlapping selections may repeat a TaskRun: the same object twice is one.
function byName(taskRuns: readonly Given[]): Map<string, Given> {
  const named = new Map<string, Given>();
  for (const g of taskRuns) {
    const name = metadataOf(g.object).name ?? '';
    if (name === '') throw new InputError('BAD_TASKRUN', `${g.where}: a TaskRun without metadata.name; save the TaskRuns from the cluster`);
    const earlier = named.get(name);
    if (earlier && metadataOf(earlier.object).uid !== metadataOf(g.object).uid) {
      throw new InputError('BAD_TASKRUN', `${g.where}: two different TaskRuns are named ${name} (in ${earlier.where} too)`);
    }
    named.set(name, g);
  }
  return named;
}

function matchChildren(pipelineRun: PipelineRun, given: ReadonlyMap<string, Given>): PipelineChild[] {
  const pr = metadataOf(pipelineRun);
  const self = `PipelineRun ${pr.namespace ?? '?'}/${pr.name ?? '?'} (uid ${pr.uid ?? '?'})`;
  for (const [name, g] of given) refuseUnlessControlled(g, name, pr, self);
  const references = childReferences(pipelineRun, self);
  const listed = new Set(references.map((r) => r.name));
  const strays = [...given.keys()].filter((name) => !listed.has(name));
  if (strays.length > 0) {
    throw new RefusedError('TASKRUN_NOT_CHILD', `TaskRun ${strays.join(', ')}: not among the status.childReferences of ${self}; give only its own TaskRuns`);
  }
  const missing = references.filter((r) => !given.has(r.name));
  if (missing.length > 0) {
    const named = missing.map((r) => `${r.name} (pipeline task ${r.pipelineTask})`).join(', ');
    throw new InputError('TASKRUN_MISSING',
      `${self} ran TaskRun ${named}, not given: add ${missing.length === 1 ? 'it' : 'them'} with --taskruns (kubectl get taskruns.v1.tekton.dev -l tekton.dev/pipelineRun=${pr.name ?? 'NAME'} -o yaml); provenance is never written from part of a run`);
  }
  return references.map((r) => {
    const g = given.get(r.name) as Given;
    const taskRun: TaskRun = checkChildTaskRun(g.object, `${g.where}: TaskRun ${r.name}`);
    return { pipelineTask: r.pipelineTask, taskRun };
  });
}

// The API server sets the controller reference when the PipelineRun creates the TaskRun.
function refuseUnlessControlled(g: Given, name: string, pr: Meta, self: string): void {
  const meta = metadataOf(g.object);
  const owners = Array.isArray(meta.ownerReferences) ? meta.ownerReferences.filter(isRecord) : [];
  const controller = owners.find((o) => o.controller === true);
  const sameNamespace = meta.namespace === pr.namespace;
  if (controller?.uid === pr.uid && controller?.kind === 'PipelineRun' && sameNamespace) return;
  const owner = controller === undefined ? 'has no controller' : `is controlled by ${text(controller.kind)} ${text(controller.name)} (uid ${text(controller.uid)})`;
  const namespace = sameNamespace ? '' : ` in namespace ${meta.namespace ?? '?'}`;
  throw new RefusedError('TASKRUN_NOT_CHILD', `${g.where}: TaskRun ${name}${namespace} ${owner}, not by ${self}`);
}

function text(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : '?';
}

interface ChildReference {
  readonly name: string;
  readonly pipelineTask: string;
}

/** A Custom Task's run or a child PipelineRun holds no steps or type hints the statement could record: it is only named. */
function otherChildren(pipelineRun: PipelineRun): PipelineInput['uninspected'] {
  const status = isRecord(pipelineRun.status) ? pipelineRun.status : {};
  const references = Array.isArray(status.childReferences) ? status.childReferences : [];
  return references.flatMap((ref) => {
    if (!isRecord(ref) || ref.kind === undefined || ref.kind === 'TaskRun' || typeof ref.name !== 'string') return [];
    return [{ pipelineTask: typeof ref.pipelineTaskName === 'string' ? ref.pipelineTaskName : '', kind: typeof ref.kind === 'string' ? ref.kind : '', name: ref.name }];
  });
}

function childReferences(pipelineRun: PipelineRun, self: string): ChildReference[] {
  const status = isRecord(pipelineRun.status) ? pipelineRun.status : {};
  const references = Array.isArray(status.childReferences) ? status.childReferences : [];
  return references.filter((ref) => !isRecord(ref) || ref.kind === 'TaskRun' || ref.kind === undefined).map((ref, i): ChildReference => {
    const at = `${self}: status.childReferences[${i}]`;
    if (!isRecord(ref) || typeof ref.name !== 'string' || ref.name === '') throw new InputError('BAD_PIPELINERUN', `${at} has no name`);
    if (typeof ref.pipelineTaskName !== 'string' || ref.pipelineTaskName === '') throw new InputError('BAD_PIPELINERUN', `${at} (TaskRun ${ref.name}) has no pipelineTaskName`);
    return { name: ref.name, pipelineTask: ref.pipelineTaskName };
  });
}

interface Meta {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly uid: string | undefined;
  readonly ownerReferences: unknown;
}

function metadataOf(object: { metadata?: unknown }): Meta {
  const m = isRecord(object.metadata) ? object.metadata : {};
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return { name: text(m.name), namespace: text(m.namespace), uid: text(m.uid), ownerReferences: m.ownerReferences };
}
