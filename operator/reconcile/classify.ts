// Decides what a TaskRun or PipelineRun needs from us, from its metadata and status alone (cheap
// enough to run on every watch event; the reconciler re-decides on the live object before acting).
// An outcome counts as recorded only when it carries our seal: values anyone else wrote decide
// nothing. With PipelineRuns on, a TaskRun controlled by a PipelineRun is attested as part of it,
// never on its own: one provenance per model, whichever level reports it.
import { isTypeHintOutputName } from './hints.ts';
import { ANNOTATION, FINALIZER, KEY_PREFIX, valuesOn } from './outcome.ts';
import { parseSeal, type OutcomeSeal } from './seal.ts';
import { controllingPipelineRun, type ObjectWithMeta, type RunKind } from '../kube/index.ts';

export type Action =
  | 'ignore' // nothing to do now
  | 'hold' // running and declares model outputs: add our finalizer so a deletion right after it finishes waits for us
  | 'attest' // finished with model outputs and no outcome of ours yet
  | 'overrule' // finished, nothing to attest, but carries slsa-ml.dev/ values we did not write
  | 'release' // our outcome is recorded (or there is nothing to attest) but our finalizer is still on it
  // finished, with an outcome sealed by a seal that is not ours (another installation, a rotated-out
  // key, or a forgery): the reconciler decides whether to leave it or record its own
  | 'judge'
  // A running PipelineRun whose own results announce no model: hold it if a child TaskRun declares one
  // (only a child's event asks; the reconciler reads the children).
  | 'check-hold';

export interface ClassifyOptions {
  readonly attestFailedRuns: boolean;
  readonly useFinalizer: boolean;
  readonly seal: OutcomeSeal;
  /** PipelineRuns are attested as one run (pipelineRuns.enabled). */
  readonly pipelineRuns?: boolean;
  /** Whether this process already judged this very seal on this run (and left it): not queued again. */
  readonly judged?: (uid: string, seal: string) => boolean;
}

interface Named { name?: unknown }
interface Condition { type?: string; status?: string }
interface RunStatus {
  conditions?: Condition[];
  results?: Named[];
  steps?: Array<{ results?: Named[] }>;
  taskSpec?: { results?: Named[]; steps?: Array<{ results?: Named[] }> };
  pipelineSpec?: { results?: Named[] };
}
type Meta = NonNullable<ObjectWithMeta['metadata']>;

/** What a run of this kind announces: whether it has (or will have) model outputs to attest. */
interface KindRules {
  /** Finished: may have outputs (a PipelineRun's may sit in its children: always looked at). */
  readonly hasOutputs: (status: RunStatus) => boolean;
  /** Running and not held yet: hold it, ask the reconciler to look at its children, or nothing. */
  readonly whileRunning: (status: RunStatus) => Action;
  /** slsa-ml.dev/ values we did not write are overruled (a kind we do not attest is left alone). */
  readonly overrules: boolean;
  /** An outcome another seal made is judged against our own attestation (only where we attest). */
  readonly judges: boolean;
}

const RULES: Record<RunKind | 'PipelineTask' | 'PipelineRunOff', KindRules> = {
  TaskRun: { hasOutputs: hasOutputHints, whileRunning: (status) => (declaresOutputs(status) ? 'hold' : 'ignore'), overrules: true, judges: true },
  PipelineRun: { hasOutputs: () => true, whileRunning: (status) => (pipelineDeclaresOutputs(status) ? 'hold' : 'check-hold'), overrules: true, judges: true },
  // A TaskRun controlled by a PipelineRun: attested at the pipeline level, so nothing to do here
  // (and any outcome on it, sealed or not, is removed: it has none of its own).
  PipelineTask: { hasOutputs: () => false, whileRunning: () => 'ignore', overrules: true, judges: false },
  // PipelineRuns with pipelineRuns.enabled off: only a finalizer of ours (from when it was on) is released.
  PipelineRunOff: { hasOutputs: () => false, whileRunning: () => 'ignore', overrules: false, judges: false },
};

export function classify(obj: ObjectWithMeta, options: ClassifyOptions, kind: RunKind = 'TaskRun'): Action {
  const meta = obj.metadata ?? {};
  const holding = (meta.finalizers ?? []).includes(FINALIZER);
  const settled: Action = holding ? 'release' : 'ignore';
  if (hasSealedOutcome(meta, options.seal)) return settled;
  const rules = rulesFor(obj, options, kind);
  const status = (obj.status ?? {}) as RunStatus;
  const succeeded = status.conditions?.find((c) => c.type === 'Succeeded')?.status;
  if (succeeded !== 'True' && succeeded !== 'False') return whileRunning(meta, status, holding, options, rules);
  return whenFinished(meta, status, succeeded === 'True', options, rules) ?? settled;
}

/**
 * The seal an outcome carries, when it is well formed; whose it is, is for OutcomeSeal.verify to
 * say. One we cannot verify is another installation's, ours under a key we no longer hold, or a forgery.
 */
export function carriedSeal(meta: Meta): string | undefined {
  const seal = meta.annotations?.[ANNOTATION.seal];
  return valuesOn(meta) !== undefined && parseSeal(seal) !== undefined ? seal : undefined;
}

function rulesFor(obj: ObjectWithMeta, options: ClassifyOptions, kind: RunKind): KindRules {
  if (kind === 'PipelineRun') return RULES[options.pipelineRuns === true ? 'PipelineRun' : 'PipelineRunOff'];
  return RULES[options.pipelineRuns === true && isPipelineTask(obj) ? 'PipelineTask' : 'TaskRun'];
}

/** A TaskRun that a PipelineRun controls (Tekton's ownerReference). */
export function isPipelineTask(obj: ObjectWithMeta): boolean {
  return controllingPipelineRun(obj.metadata) !== undefined;
}

function whenFinished(meta: Meta, status: RunStatus, succeeded: boolean, options: ClassifyOptions, rules: KindRules): Action | undefined {
  const seal = rules.judges ? carriedSeal(meta) : undefined;
  if (seal !== undefined) return options.judged?.(meta.uid ?? '', seal) === true ? undefined : 'judge';
  if (rules.hasOutputs(status) && (succeeded || options.attestFailedRuns)) return 'attest';
  return rules.overrules && hasForeignValues(meta) ? 'overrule' : undefined;
}

function whileRunning(meta: Meta, status: RunStatus, holding: boolean, options: ClassifyOptions, rules: KindRules): Action {
  if (meta.deletionTimestamp != null) return holding ? 'release' : 'ignore';
  return options.useFinalizer && !holding ? rules.whileRunning(status) : 'ignore';
}

/** Our outcome, sealed by us for this very UID and these values. */
export function hasSealedOutcome(meta: Meta, seal: OutcomeSeal): boolean {
  const values = valuesOn(meta);
  return values !== undefined && seal.verify(meta.uid ?? '', values, meta.annotations?.[ANNOTATION.seal]);
}

/** Any key under slsa-ml.dev/ that is not part of an outcome we sealed. */
export function hasForeignValues(meta: Meta): boolean {
  const ours = (key: string): boolean => key.startsWith(KEY_PREFIX);
  return Object.keys(meta.annotations ?? {}).some(ours) || Object.keys(meta.labels ?? {}).some(ours);
}

/** Declared results (status.taskSpec, known while the run is still running) that announce a model. */
export function declaresOutputs(status: RunStatus): boolean {
  const spec = status.taskSpec;
  return hintNamed([...(spec?.results ?? []), ...(spec?.steps ?? []).flatMap((s) => s.results ?? [])]);
}

/** A Pipeline whose own results announce a model (re-exported from a task). */
export function pipelineDeclaresOutputs(status: RunStatus): boolean {
  return hintNamed(status.pipelineSpec?.results ?? []);
}

function hasOutputHints(status: RunStatus): boolean {
  return hintNamed([...(status.results ?? []), ...(status.steps ?? []).flatMap((s) => s.results ?? [])]);
}

function hintNamed(results: readonly Named[]): boolean {
  return results.some((r) => typeof r.name === 'string' && isTypeHintOutputName(r.name));
}
