// Results of a TaskRun, from the task level and from each step (StepAction results), converted once.
import { HintError } from './errors.ts';
import type { HintErrorCode } from './errors.ts';
import { arrayField, isRecord, stringField } from './json.ts';
import type { TaskRun } from './kube.ts';

export interface RunResult {
  name: string;
  /** The value as found: a string, array or object for well-formed results; anything otherwise. */
  value: unknown;
  /** Name of the step that reported it; absent for task-level results. */
  step?: string;
}

/** Results that pair with each other: the task's own, or one step's. */
export interface ResultScope {
  step?: string;
  results: RunResult[];
}

/** Task results first, then every step's results in step order. */
export function resultScopes(taskRun: TaskRun): ResultScope[] {
  const status = taskRun.status;
  const scopes: ResultScope[] = [{ results: readResults(arrayField(status, 'results'), 'status.results') }];
  arrayField(status, 'steps').forEach((state, i) => {
    const step = stringField(state, 'name') ?? `#${i}`;
    const results = readResults(arrayField(state, 'results'), `status.steps[${i}].results`, step);
    if (results.length > 0) scopes.push({ step, results });
  });
  return scopes;
}

export function allResults(taskRun: TaskRun): RunResult[] {
  return resultScopes(taskRun).flatMap((scope) => scope.results);
}

function readResults(entries: unknown[], where: string, step?: string): RunResult[] {
  return entries.map((entry, i) => {
    const name = stringField(entry, 'name');
    if (!isRecord(entry) || !name) {
      const reason = 'a result must be an object with a non-empty name';
      throw new HintError('BAD_SHAPE', `${where}[${i}]`, reason, { step });
    }
    if (entry.value === undefined) throw new HintError('BAD_SHAPE', name, 'the result has no value', { step });
    return step === undefined ? { name, value: entry.value } : { name, value: entry.value, step };
  });
}

/** A HintError about this result. */
export function hintError(code: HintErrorCode, result: RunResult, reason: string): HintError {
  return new HintError(code, result.name, reason, { step: result.step });
}
