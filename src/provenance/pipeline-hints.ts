// The type hints of a PipelineRun: its own results (a Pipeline re-exporting a task's model) and,
// with deep inspection (Chains' `enable-deep-inspection`), every child TaskRun's task and step
// results. One model reported at two levels (the upload task and the Pipeline's result naming it)
// is one output; the same URI with two digests is an error naming both places. A malformed hint
// in a child names its pipeline task and TaskRun. A source is read from the PipelineRun as Chains
// reads it: the Pipeline's param defaults, then the PipelineRun's params, then its results.
import { HintError } from './errors.ts';
import type { ArtifactHint } from './hint-objects.ts';
import type { PipelineRun } from './kube.ts';
import { arrayField, recordField, stringField } from './json.ts';
import { addHint, readTypeHints, type HintOptions, type TypeHints } from './type-hints.ts';
import type { PipelineChild } from './types.ts';

export interface PipelineHints {
  /** The PipelineRun's own results. */
  readonly run: TypeHints;
  /** Each child's, in the order of `children` (empty hints without deep inspection). */
  readonly children: readonly TypeHints[];
  /** Every model output, PipelineRun first, then each child's; one per URI. */
  readonly outputs: ArtifactHint[];
}

export interface PipelineHintOptions extends HintOptions {
  /** Read the child TaskRuns' results too (default true). */
  readonly deepInspection?: boolean;
}

const NO_HINTS: TypeHints = { outputs: [], inputs: [], sources: [], frameworks: [], unreadableFrameworks: [] };

export function readPipelineTypeHints(pipelineRun: PipelineRun, children: readonly PipelineChild[], options: PipelineHintOptions = {}): PipelineHints {
  const run = readTypeHints(withPipelineDefaults(pipelineRun), options);
  const deep = options.deepInspection ?? true;
  const childHints = children.map((child) => (deep ? childTypeHints(child, options) : NO_HINTS));
  const outputs: ArtifactHint[] = [];
  const where = new Map<string, string>();
  const add = (hint: ArtifactHint, place: string): void => {
    try {
      addHint(outputs, { ...hint, origin: place });
      if (!where.has(hint.uri)) where.set(hint.uri, place);
    } catch (err) {
      if (err instanceof HintError) err.message = `${place}: ${err.message} (in ${where.get(hint.uri) ?? 'another result'})`;
      throw err;
    }
  };
  for (const hint of run.outputs) add(hint, `PipelineRun ${stringField(pipelineRun.metadata, 'name') ?? ''}`);
  childHints.forEach((hints, i) => {
    for (const hint of hints.outputs) add(hint, childPlace(children[i] as PipelineChild));
  });
  return { run, children: childHints, outputs };
}

/**
 * The PipelineRun as the TaskRun reader sees a run: the Pipeline's params (status.pipelineSpec,
 * as Tekton resolved it) where a TaskRun has its Task's (status.taskSpec), so that a
 * `CHAINS-GIT_*` param default of the Pipeline counts, as it does in Chains.
 */
function withPipelineDefaults(pipelineRun: PipelineRun): PipelineRun {
  const params = arrayField(recordField(pipelineRun.status, 'pipelineSpec'), 'params');
  if (params.length === 0) return pipelineRun;
  return { ...pipelineRun, status: { ...pipelineRun.status, taskSpec: { params } } };
}

function childTypeHints(child: PipelineChild, options: HintOptions): TypeHints {
  try {
    return readTypeHints(child.taskRun, options);
  } catch (err) {
    if (err instanceof HintError) err.message = `${childPlace(child)}: ${err.message}`;
    throw err;
  }
}

export function childPlace(child: PipelineChild): string {
  return `pipeline task ${child.pipelineTask} (TaskRun ${stringField(child.taskRun.metadata, 'name') ?? '?'})`;
}
