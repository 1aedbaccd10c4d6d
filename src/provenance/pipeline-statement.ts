// buildPipelineStatement: the provenance of a model produced by a PipelineRun, every child TaskRun
// inspected (docs/buildtype-pipeline.md). It is shaped like Tekton Chains' v2alpha4 pipeline-level
// statement — the PipelineRun spec as external parameters, the dependencies and byproducts of every
// child — and keeps the names of our TaskRun statement, so that `verify --source-repo` and `query`
// read either without knowing which level wrote it: a source is still named `source`, an input
// `inputs/<result>`, a framework a package URL; each also names the pipeline task it came from.
// Pure: the same input always gives the same statement.
import { byproducts } from './byproducts.ts';
import { ANNOTATION, PIPELINE_BUILD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from './constants.ts';
import { resolvedDependencies } from './dependencies.ts';
import { ProvenanceError } from './errors.ts';
import { externalParameters } from './external.ts';
import { arrayField, recordField, stringField, toJson } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import type { PipelineRun } from './kube.ts';
import { readPipelineTypeHints, type PipelineHints } from './pipeline-hints.ts';
import { placementFacts } from './platform.ts';
import { runDetails } from './run-details.ts';
import { checkedSubjects } from './subjects.ts';
import type { BuildDefinition, BuildPipelineStatementInput, PipelineChild, ResourceDescriptor, Statement } from './types.ts';

export function buildPipelineStatement(input: BuildPipelineStatementInput): Statement {
  const { pipelineRun: pr, children, settings } = input;
  const subjects = checkedSubjects(input.subjects);
  const deepInspection = input.deepInspection ?? true;
  const hints = readPipelineTypeHints(pr, children, { ...(settings.outputSchemes ? { outputSchemes: settings.outputSchemes } : {}), deepInspection });

  const buildDefinition: BuildDefinition = {
    buildType: PIPELINE_BUILD_TYPE,
    externalParameters: externalParameters(pr, 'PipelineRun'),
    internalParameters: pipelineInternalParameters(pr, children, settings.operatorConfig, input.uninspected ?? []),
  };
  const dependencies = pipelineDependencies(pr, children, hints);
  if (dependencies.length > 0) buildDefinition.resolvedDependencies = dependencies;

  const siblings = input.siblings ?? [];
  // Without deep inspection a child's results are not read at all (as in Chains): neither its
  // hints nor its other results; its definition and images are still dependencies.
  const produced = [
    ...byproducts(pr, hints.run, subjects, siblings, 'pipelineRun'),
    ...(deepInspection ? children.flatMap((child, i) => byproducts(child.taskRun, hints.children[i] ?? hints.run, subjects, siblings).map((d) => fromTask(d, child))) : []),
  ];
  // The Tekton release that ran the tasks, as recorded on the first child's Pod.
  const pod = children.find((c) => c.pod !== undefined)?.pod;
  return {
    _type: STATEMENT_TYPE,
    subject: subjects,
    predicateType: PREDICATE_TYPE,
    predicate: { buildDefinition, runDetails: runDetails(pr, pod, settings, onePerUri(produced)) },
  };
}

/**
 * What the platform decided: per child TaskRun, the node pool, machine and accelerators its own
 * Pod ran on (a GPU training task between CPU tasks), its attempts, and the tasks Tekton skipped.
 */
function pipelineInternalParameters(pr: PipelineRun, children: readonly PipelineChild[], operatorConfig: Record<string, unknown> | undefined, uninspected: NonNullable<BuildPipelineStatementInput['uninspected']>): JsonObject {
  const params: JsonObject = { tasks: children.map(taskFacts) };
  if (uninspected.length > 0) params.uninspectedRuns = uninspected.map((r) => ({ pipelineTask: r.pipelineTask, kind: r.kind, name: r.name }));
  const skipped = arrayField(pr.status, 'skippedTasks').flatMap((s): JsonObject[] => {
    const name = stringField(s, 'name');
    if (!name) return [];
    const reason = stringField(s, 'reason');
    return [reason === undefined ? { name } : { name, reason }];
  });
  if (skipped.length > 0) params.skippedTasks = skipped;
  const flags = recordField(recordField(pr.status, 'provenance'), 'featureFlags');
  if (flags) params['tekton-pipelines-feature-flags'] = toJson(flags, 'status.provenance.featureFlags');
  if (operatorConfig) params.operatorConfig = toJson(operatorConfig, 'settings.operatorConfig');
  return params;
}

function taskFacts(child: PipelineChild): JsonObject {
  const name = stringField(child.taskRun.metadata, 'name');
  if (!name) throw new ProvenanceError('BAD_TASKRUN', `pipeline task ${child.pipelineTask}: its TaskRun has no metadata.name`);
  const facts: JsonObject = { pipelineTask: child.pipelineTask, taskRun: name, ...placementFacts(child.pod, child.node) };
  // Tekton keeps each failed attempt of a retried task in the TaskRun's retriesStatus.
  const retries = arrayField(child.taskRun.status, 'retriesStatus').length;
  if (retries > 0) facts.attempts = retries + 1;
  const succeeded = arrayField(child.taskRun.status, 'conditions').find((c) => stringField(c, 'type') === 'Succeeded');
  const outcome = stringField(succeeded, 'reason');
  if (outcome !== undefined) facts.outcome = outcome;
  if (child.factsOmitted !== undefined) facts.clusterFactsOmitted = child.factsOmitted;
  return facts;
}

/**
 * The Pipeline definition as Tekton resolved it, what the PipelineRun's own results reported, then
 * each child's dependencies (its Task, StepActions, images, sources, inputs, frameworks), each
 * named after its pipeline task where the TaskRun statement's name is the TaskRun's own part.
 */
function pipelineDependencies(pr: PipelineRun, children: readonly PipelineChild[], hints: PipelineHints): ResourceDescriptor[] {
  const own = resolvedDependencies(pr, hints.run).map((d) => (d.name === 'task' ? { ...d, name: 'pipeline' } : d));
  const ofChildren = children.flatMap((child, i) =>
    resolvedDependencies(child.taskRun, hints.children[i] ?? hints.run).map((d) => fromTask(renamed(d, child.pipelineTask), child)));
  return [...own, ...ofChildren];
}

/** `task` → `pipelineTask/<task>`; `step/…`, `sidecar/…`, `stepAction/…` → `pipelineTask/<task>/…`. */
function renamed(dep: ResourceDescriptor, pipelineTask: string): ResourceDescriptor {
  if (dep.name === 'task') return { ...dep, name: `pipelineTask/${pipelineTask}` };
  if (dep.name !== undefined && /^(step|sidecar|stepAction)\//.test(dep.name)) return { ...dep, name: `pipelineTask/${pipelineTask}/${dep.name}` };
  return dep;
}

function fromTask(dep: ResourceDescriptor, child: PipelineChild): ResourceDescriptor {
  const annotations: Record<string, JsonValue> = { ...dep.annotations, [ANNOTATION.pipelineTask]: child.pipelineTask, [ANNOTATION.taskRun]: stringField(child.taskRun.metadata, 'name') ?? '' };
  return { ...dep, annotations };
}

/** A model reported by a task and again by the Pipeline's result is one byproduct (the first). */
function onePerUri(descriptors: ResourceDescriptor[]): ResourceDescriptor[] {
  const seen = new Set<string>();
  return descriptors.filter((d) => {
    if (d.uri === undefined) return true;
    if (seen.has(d.uri)) return false;
    seen.add(d.uri);
    return true;
  });
}
