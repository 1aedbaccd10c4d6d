// byproducts: results that are not type hints, named and encoded as Tekton Chains (SLSA v1.0
// formats) does — content is the result's JSON value, base64 — plus reported outputs that did not
// become subjects (e.g. checkpoints without isBuildArtifact), so no reported artifact is lost.
import { ANNOTATION, PIPELINE_TASK_LABEL } from './constants.ts';
import type { ArtifactHint } from './hint-objects.ts';
import { canonicalJson, recordField, stringField, toJson } from './json.ts';
import type { TaskRun } from './kube.ts';
import { allResults } from './results.ts';
import type { RunResult } from './results.ts';
import { isTypeHintName } from './type-hints.ts';
import type { TypeHints } from './type-hints.ts';
import type { ResourceDescriptor, Subject } from './types.ts';

export function byproducts(taskRun: TaskRun, hints: TypeHints, subjects: Subject[]): ResourceDescriptor[] {
  const task = taskIdentifier(taskRun);
  const plain = allResults(taskRun)
    .filter((result) => !isTypeHintName(result.name))
    .map((result) => resultByproduct(task, result));
  const subjectUris = new Set(subjects.map((s) => s.uri));
  const unsubjected = hints.outputs.filter((hint) => !subjectUris.has(hint.uri)).map((hint) => outputByproduct(task, hint));
  return [...plain, ...unsubjected];
}

/** The pipeline task name for TaskRuns of a PipelineRun, else the TaskRun name (as Chains does). */
function taskIdentifier(taskRun: TaskRun): string {
  const label = stringField(recordField(taskRun.metadata, 'labels'), PIPELINE_TASK_LABEL);
  return label ?? stringField(taskRun.metadata, 'name') ?? '';
}

function byproductName(task: string, resultName: string, step: string | undefined): string {
  return step === undefined ? `taskRunResults/${task}/${resultName}` : `stepResults/${task}/${step}/${resultName}`;
}

function resultByproduct(task: string, result: RunResult): ResourceDescriptor {
  const where = `result ${result.name}`;
  // Canonical JSON, so that the same value always gives the same bytes whatever its key order.
  const json = canonicalJson(toJson(result.value, where));
  return {
    name: byproductName(task, result.name, result.step),
    content: Buffer.from(json, 'utf8').toString('base64'),
    mediaType: 'application/json',
    annotations: { [ANNOTATION.tenantReported]: true },
  };
}

function outputByproduct(task: string, hint: ArtifactHint): ResourceDescriptor {
  const dep: ResourceDescriptor = {
    name: byproductName(task, hint.resultName, hint.step),
    uri: hint.uri,
    annotations: { [ANNOTATION.tenantReported]: true },
  };
  if (hint.digest) dep.digest = { sha256: hint.digest.hex };
  if (hint.directory && dep.annotations) dep.annotations[ANNOTATION.kind] = 'directory';
  return dep;
}
