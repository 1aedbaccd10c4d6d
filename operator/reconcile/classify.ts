// Decides what a TaskRun needs from us, from its metadata and status alone (cheap enough to run
// on every watch event; the reconciler re-decides on the live object before acting). An outcome
// counts as recorded only when it carries our seal: values anyone else wrote decide nothing.
import { isTypeHintOutputName } from './hints.ts';
import { ANNOTATION, FINALIZER, KEY_PREFIX, valuesOn } from './outcome.ts';
import type { OutcomeSeal } from './seal.ts';
import type { ObjectWithMeta } from '../kube/index.ts';

export type Action =
  | 'ignore' // nothing to do now
  | 'hold' // running and declares model outputs: add our finalizer so a deletion right after it finishes waits for us
  | 'attest' // finished with model outputs and no outcome of ours yet
  | 'overrule' // finished, nothing to attest, but carries slsa-ml.dev/ values we did not write
  | 'release'; // our outcome is recorded (or there is nothing to attest) but our finalizer is still on it

export interface ClassifyOptions {
  readonly attestFailedRuns: boolean;
  readonly useFinalizer: boolean;
  readonly seal: OutcomeSeal;
}

interface Named { name?: unknown }
interface Condition { type?: string; status?: string }
interface RunStatus {
  conditions?: Condition[];
  results?: Named[];
  steps?: Array<{ results?: Named[] }>;
  taskSpec?: { results?: Named[]; steps?: Array<{ results?: Named[] }> };
}
type Meta = NonNullable<ObjectWithMeta['metadata']>;

export function classify(obj: ObjectWithMeta, options: ClassifyOptions): Action {
  const meta = obj.metadata ?? {};
  const holding = (meta.finalizers ?? []).includes(FINALIZER);
  const settled: Action = holding ? 'release' : 'ignore';
  if (hasSealedOutcome(meta, options.seal)) return settled;
  const status = (obj.status ?? {}) as RunStatus;
  const succeeded = status.conditions?.find((c) => c.type === 'Succeeded')?.status;
  if (succeeded !== 'True' && succeeded !== 'False') return whileRunning(meta, status, holding, options);
  return whenFinished(meta, status, succeeded === 'True', options) ?? settled;
}

function whenFinished(meta: Meta, status: RunStatus, succeeded: boolean, options: ClassifyOptions): Action | undefined {
  if (hasOutputHints(status) && (succeeded || options.attestFailedRuns)) return 'attest';
  return hasForeignValues(meta) ? 'overrule' : undefined;
}

function whileRunning(meta: Meta, status: RunStatus, holding: boolean, options: ClassifyOptions): Action {
  if (meta.deletionTimestamp != null) return holding ? 'release' : 'ignore';
  return options.useFinalizer && !holding && declaresOutputs(status) ? 'hold' : 'ignore';
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
function declaresOutputs(status: RunStatus): boolean {
  const spec = status.taskSpec;
  return hintNamed([...(spec?.results ?? []), ...(spec?.steps ?? []).flatMap((s) => s.results ?? [])]);
}

function hasOutputHints(status: RunStatus): boolean {
  return hintNamed([...(status.results ?? []), ...(status.steps ?? []).flatMap((s) => s.results ?? [])]);
}

function hintNamed(results: readonly Named[]): boolean {
  return results.some((r) => typeof r.name === 'string' && isTypeHintOutputName(r.name));
}
