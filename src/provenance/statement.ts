// buildStatement: a pure function from what was observed about one TaskRun to its provenance.
// Every time value comes from the input; the same input always gives the same statement.
import { byproducts } from './byproducts.ts';
import { BUILD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from './constants.ts';
import { resolvedDependencies } from './dependencies.ts';
import { externalParameters } from './external.ts';
import { internalParameters } from './platform.ts';
import { runDetails } from './run-details.ts';
import { checkedSubjects } from './subjects.ts';
import { readTypeHints } from './type-hints.ts';
import type { BuildDefinition, BuildStatementInput, Statement } from './types.ts';

export function buildStatement(input: BuildStatementInput): Statement {
  const { taskRun, pod, node, settings } = input;
  const subjects = checkedSubjects(input.subjects);
  const hints = readTypeHints(taskRun, settings.outputSchemes ? { outputSchemes: settings.outputSchemes } : {});

  const buildDefinition: BuildDefinition = { buildType: BUILD_TYPE, externalParameters: externalParameters(taskRun) };
  const internal = internalParameters(taskRun, pod, node, settings);
  if (input.factsOmitted !== undefined) internal.clusterFactsOmitted = input.factsOmitted;
  if (Object.keys(internal).length > 0) buildDefinition.internalParameters = internal;
  const dependencies = resolvedDependencies(taskRun, hints);
  if (dependencies.length > 0) buildDefinition.resolvedDependencies = dependencies;

  return {
    _type: STATEMENT_TYPE,
    subject: subjects,
    predicateType: PREDICATE_TYPE,
    predicate: {
      buildDefinition,
      runDetails: runDetails(taskRun, pod, settings, byproducts(taskRun, hints, subjects, input.siblings ?? [])),
    },
  };
}
