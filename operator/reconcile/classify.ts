// Decides what a TaskRun needs from us, from its metadata and status alone (cheap enough to run
// on every watch event; the reconciler re-decides on the live object before acting).
import { isTypeHintOutputName } from './hints.ts';
import { ANNOTATION, FINALIZER } from './outcome.ts';
import type { ObjectWithMeta } from '../kube/index.ts';

export type Action =
  | 'ignore' // nothing to do now
  | 'hold' // running: add our finalizer so a deletion right after it finishes waits for us
  | 'attest' // finished with model outputs and no outcome yet
  | 'release'; // outcome recorded (or nothing to attest) but our finalizer is still on it

export interface ClassifyOptions {
  readonly attestFailedRuns: boolean;
  readonly useFinalizer: boolean;
}

interface Condition { type?: string; status?: string }
interface RunStatus { conditions?: Condition[]; results?: Array<{ name?: string }>; steps?: Array<{ results?: Array<{ name?: string }> }> }

export function classify(obj: ObjectWithMeta, options: ClassifyOptions): Action {
  const meta = obj.metadata ?? {};
  const holding = (meta.finalizers ?? []).includes(FINALIZER);
  const settled: Action = holding ? 'release' : 'ignore';
  if (meta.annotations?.[ANNOTATION.signed] !== undefined) return settled;
  const status = (obj.status ?? {}) as RunStatus;
  const succeeded = status.conditions?.find((c) => c.type === 'Succeeded')?.status;
  if (succeeded !== 'True' && succeeded !== 'False') return whileRunning(meta.deletionTimestamp != null, holding, options);
  const wanted = hasOutputHints(status) && (succeeded === 'True' || options.attestFailedRuns);
  return wanted ? 'attest' : settled;
}

function whileRunning(deleting: boolean, holding: boolean, options: ClassifyOptions): Action {
  if (deleting) return holding ? 'release' : 'ignore';
  return options.useFinalizer && !holding ? 'hold' : 'ignore';
}

function hasOutputHints(status: RunStatus): boolean {
  const names = [
    ...(status.results ?? []).map((r) => r.name),
    ...(status.steps ?? []).flatMap((s) => (s.results ?? []).map((r) => r.name)),
  ];
  return names.some((n) => typeof n === 'string' && isTypeHintOutputName(n));
}
