// byproducts: results that are not type hints, named and encoded as Tekton Chains' v2alpha4
// formatter does for a TaskRun — `taskRunResults/<TaskRun name>/<result>` and
// `stepResults/<TaskRun name>/<result>`, content the result's JSON value in base64. The name part
// is the TaskRun's own name (externalParameters.name), never a label a tenant can set; the step of
// a step result is added as an annotation. Then what else the run reported, so that nothing is
// lost: frameworks results that could not be read (marked why), reported outputs that did not
// become subjects, and the run's other models with the digest the operator measured.
import { ANNOTATION } from './constants.ts';
import type { UnreadableHint } from './hint-frameworks.ts';
import { isFrameworksName } from './hint-frameworks.ts';
import type { ArtifactHint } from './hint-objects.ts';
import { canonicalJson, stringField, toJson } from './json.ts';
import type { JsonValue } from './json.ts';
import type { TaskRun } from './kube.ts';
import { allResults } from './results.ts';
import type { RunResult } from './results.ts';
import { isTypeHintName } from './type-hints.ts';
import type { TypeHints } from './type-hints.ts';
import type { ResourceDescriptor, Subject } from './types.ts';

/** Whose results: a TaskRun's (`taskRunResults/…`) or a PipelineRun's own (`pipelineRunResults/…`). */
export type ResultLevel = 'taskRun' | 'pipelineRun';

export function byproducts(taskRun: TaskRun, hints: TypeHints, subjects: Subject[], siblings: readonly Subject[] = [], level: ResultLevel = 'taskRun'): ResourceDescriptor[] {
  const runName = stringField(taskRun.metadata, 'name') ?? '';
  const named = (resultName: string, step: string | undefined): string => byproductName(level, runName, resultName, step);
  const results = allResults(taskRun);
  const plain = results.filter((result) => !isTypeHintName(result.name)).map((result) => resultByproduct(named, result));
  const unreadable = results.filter((result) => isFrameworksName(result.name))
    .flatMap((result) => unreadableOf(result, hints.unreadableFrameworks).map((why) => withAnnotation(resultByproduct(named, result), ANNOTATION.unreadable, why.reason)));
  const subjectUris = new Set(subjects.map((s) => s.uri));
  const measured = new Map(siblings.filter((s) => s.uri !== undefined && !subjectUris.has(s.uri)).map((s) => [s.uri, s]));
  const unsubjected = hints.outputs.filter((hint) => !subjectUris.has(hint.uri)).map((hint) => outputByproduct(named, hint, measured.get(hint.uri)));
  return [...plain, ...unreadable, ...unsubjected];
}

function byproductName(level: ResultLevel, runName: string, resultName: string, step: string | undefined): string {
  const kind = step !== undefined ? 'stepResults' : level === 'pipelineRun' ? 'pipelineRunResults' : 'taskRunResults';
  return `${kind}/${runName}/${resultName}`;
}

function tenantAnnotations(step: string | undefined): Record<string, JsonValue> {
  const annotations: Record<string, JsonValue> = { [ANNOTATION.tenantReported]: true };
  if (step !== undefined) annotations[ANNOTATION.step] = step;
  return annotations;
}

function resultByproduct(named: (resultName: string, step: string | undefined) => string, result: RunResult): ResourceDescriptor {
  const where = `result ${result.name}`;
  // Canonical JSON, so that the same value always gives the same bytes whatever its key order.
  const json = canonicalJson(toJson(result.value, where));
  return {
    name: named(result.name, result.step),
    content: Buffer.from(json, 'utf8').toString('base64'),
    mediaType: 'application/json',
    annotations: tenantAnnotations(result.step),
  };
}

function unreadableOf(result: RunResult, unreadable: readonly UnreadableHint[]): UnreadableHint[] {
  return unreadable.filter((u) => u.resultName === result.name && u.step === result.step);
}

function withAnnotation(descriptor: ResourceDescriptor, key: string, value: JsonValue): ResourceDescriptor {
  return { ...descriptor, annotations: { ...descriptor.annotations, [key]: value } };
}

// A sibling model is named and located as reported, but its digest is the one we measured.
function outputByproduct(named: (resultName: string, step: string | undefined) => string, hint: ArtifactHint, sibling: Subject | undefined): ResourceDescriptor {
  const dep: ResourceDescriptor = { name: named(hint.resultName, hint.step), uri: hint.uri, annotations: tenantAnnotations(hint.step) };
  if (sibling) {
    dep.digest = { sha256: sibling.digest.sha256 };
    if (dep.annotations) dep.annotations[ANNOTATION.measured] = true;
  } else if (hint.digest) {
    dep.digest = { sha256: hint.digest.hex };
  }
  if (hint.directory && dep.annotations) dep.annotations[ANNOTATION.kind] = 'directory';
  return dep;
}
