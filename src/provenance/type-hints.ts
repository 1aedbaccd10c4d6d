// Reads every type hint of a TaskRun (task and step results), Chains-compatible, and refuses
// malformed ones with a HintError naming the result. The same hint reported twice (a StepAction
// result surfaced again as a task result) is one hint; the same URI with two digests is an error.
import { DEFAULT_OUTPUT_SCHEMES, HINT } from './constants.ts';
import type { DigestAlgorithm } from './digest-syntax.ts';
import { HintError } from './errors.ts';
import { isFrameworksName, readFrameworks } from './hint-frameworks.ts';
import type { UnreadableHint } from './hint-frameworks.ts';
import { readInputObject, readOutputObject } from './hint-objects.ts';
import type { ArtifactHint } from './hint-objects.ts';
import { readPairHints } from './hint-pairs.ts';
import { readSourceHints } from './hint-source.ts';
import type { SourceHint } from './hint-source.ts';
import type { TaskRun } from './kube.ts';
import { resultScopes } from './results.ts';

export interface TypeHints {
  outputs: ArtifactHint[];
  inputs: ArtifactHint<DigestAlgorithm>[];
  /** One per scope that reported a pair (task, steps), without repeats. */
  sources: SourceHint[];
  frameworks: string[];
  /** Frameworks results that could not be read in full (kept as marked byproducts). */
  unreadableFrameworks: UnreadableHint[];
}

export interface HintOptions {
  /** URI schemes an output may use (default ['gs']); add 'file' for the local demo. */
  outputSchemes?: readonly string[];
}

export function readTypeHints(taskRun: TaskRun, options: HintOptions = {}): TypeHints {
  const schemes = options.outputSchemes ?? DEFAULT_OUTPUT_SCHEMES;
  const scopes = resultScopes(taskRun);
  const results = scopes.flatMap((scope) => scope.results);
  const outputs: ArtifactHint[] = [];
  const inputs: ArtifactHint<DigestAlgorithm>[] = [];
  for (const scope of scopes) {
    for (const result of scope.results) {
      if (result.name.endsWith(HINT.outputs)) addHint(outputs, readOutputObject(result, schemes));
      else if (result.name.endsWith(HINT.inputs)) addHint(inputs, readInputObject(result));
    }
    for (const hint of readPairHints(scope, schemes)) addHint(outputs, hint);
  }
  const frameworks = readFrameworks(results);
  return { outputs, inputs, sources: readSourceHints(taskRun, scopes), frameworks: frameworks.purls, unreadableFrameworks: frameworks.unreadable };
}

/** Whether a result is read as a type hint (and so is not a byproduct). */
export function isTypeHintName(name: string): boolean {
  const suffixes = [HINT.outputs, HINT.inputs, HINT.uri, HINT.digest];
  const exact: string[] = [HINT.gitUrl, HINT.gitCommit];
  return suffixes.some((suffix) => name.endsWith(suffix)) || exact.includes(name) || isFrameworksName(name);
}

/** Adds a hint, merging it with one for the same URI (a digest conflict is an error). */
export function addHint<A extends DigestAlgorithm>(hints: ArtifactHint<A>[], hint: ArtifactHint<A>): void {
  const index = hints.findIndex((h) => h.uri === hint.uri);
  const seen = hints[index];
  if (seen === undefined) {
    hints.push(hint);
    return;
  }
  if (seen.digest && hint.digest && (seen.digest.algorithm !== hint.digest.algorithm || seen.digest.hex !== hint.digest.hex)) {
    const reason = `reports ${hint.uri} with a different digest than "${seen.resultName}"`;
    throw new HintError('CONFLICT', hint.resultName, reason, { step: hint.step });
  }
  const merged: ArtifactHint<A> = { ...seen, isBuildArtifact: seen.isBuildArtifact || hint.isBuildArtifact };
  const digest = seen.digest ?? hint.digest;
  if (digest !== undefined) merged.digest = digest;
  hints[index] = merged;
}
