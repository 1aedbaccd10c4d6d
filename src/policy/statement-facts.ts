// What policy reads from a verified SLSA v1 statement, converted once from the predicate's
// loose JSON into our own shape. A field of the wrong type reads as absent.
import { ANNOTATION, PIPELINE_BUILD_TYPE, type RunKind } from '../provenance/index.ts';
import { buildTypeOf, githubWorkflowOf, isGithubStatement, sourceCommit, splitSourceUri, type GithubWorkflow, type InTotoStatement } from '../verify/index.ts';

export interface Dependency {
  readonly name?: string;
  readonly uri?: string;
  readonly digest: Readonly<Record<string, string>>;
  /** In a PipelineRun's statement: the pipeline task that reported or ran it (slsa-ml.dev/pipelineTask). */
  readonly pipelineTask?: string;
}

/** Which Tekton run a statement describes; GitHub Actions statements describe none. */
export type { RunKind };

export interface StatementFacts {
  readonly buildType?: string;
  readonly builderId?: string;
  readonly invocationId?: string;
  readonly startedOn?: string;
  readonly finishedOn?: string;
  /** TaskRun, or PipelineRun for a pipeline statement (buildType tekton-pipeline/v1); absent for GitHub Actions. */
  readonly runKind?: RunKind;
  /**
   * The Tekton run, from externalParameters: the TaskRun, or the PipelineRun when runKind says so
   * (empty for a GitHub Actions statement).
   */
  readonly taskRun: { readonly namespace?: string; readonly name?: string };
  /** The workflow run, for a GitHub Actions statement (externalParameters.workflow). */
  readonly workflow?: GithubWorkflow;
  /** The training source (the first resolvedDependencies entry named "source"). */
  readonly source?: Source;
  /** Every source (a run may record one per scope, or per pipeline task: a code and a config repository). */
  readonly sources: ReadonlyArray<Source>;
  readonly dependencies: ReadonlyArray<Dependency>;
  /** Package URLs among the dependencies (training frameworks). */
  readonly packages: ReadonlyArray<string>;
  /** Frameworks results the builder could not read (byproducts marked slsa-ml.dev/unreadable): `name: reason`. */
  readonly unreadableFrameworks: ReadonlyArray<string>;
}

export interface Source {
  /** As recorded, e.g. git+https://github.com/acme/models@refs/heads/main. */
  readonly uri: string;
  /** The uri without `git+` and without its revision, e.g. https://github.com/acme/models. */
  readonly repository: string;
  /** The revision after "@" when it is a ref (refs/heads/main, refs/tags/v1). */
  readonly ref?: string;
  readonly commit?: string;
  /** In a PipelineRun's statement: the pipeline task that reported it (a clone task). */
  readonly pipelineTask?: string;
}

type Json = Readonly<Record<string, unknown>>;

const UNREADABLE = ANNOTATION.unreadable;
const PIPELINE_TASK = ANNOTATION.pipelineTask;

export function statementFacts(statement: InTotoStatement): StatementFacts {
  const buildDefinition = record(statement.predicate.buildDefinition);
  const runDetails = record(statement.predicate.runDetails);
  const metadata = record(runDetails.metadata);
  const external = record(buildDefinition.externalParameters);
  const dependencies = list(buildDefinition.resolvedDependencies).map(toDependency);
  const sources = dependencies.flatMap((d) => (d.name === 'source' && d.uri !== undefined ? [sourceOf(d.uri, d)] : []));
  const buildType = buildTypeOf(statement);
  const github = isGithubStatement(statement);
  return {
    ...optional('buildType', buildType),
    ...optional('builderId', string(record(runDetails.builder).id)),
    ...optional('invocationId', string(metadata.invocationId)),
    ...optional('startedOn', string(metadata.startedOn)),
    ...optional('finishedOn', string(metadata.finishedOn)),
    ...(github ? {} : { runKind: buildType === PIPELINE_BUILD_TYPE ? 'PipelineRun' : 'TaskRun' }),
    taskRun: { ...optional('namespace', string(external.namespace)), ...optional('name', string(external.name)) },
    ...(github ? { workflow: githubWorkflowOf(statement) } : {}),
    ...(sources[0] === undefined ? {} : { source: sources[0] }),
    sources,
    dependencies,
    packages: dependencies.flatMap((d) => (d.uri?.startsWith('pkg:') ? [d.uri] : [])),
    unreadableFrameworks: list(runDetails.byproducts).map(record).flatMap(unreadable),
  };
}

function unreadable(byproduct: Json): string[] {
  const reason = record(byproduct.annotations)[UNREADABLE];
  return typeof reason === 'string' ? [`${string(byproduct.name) ?? 'a result'}: ${reason}`] : [];
}

function toDependency(value: unknown): Dependency {
  const json = record(value);
  const digest: Record<string, string> = {};
  for (const [alg, hex] of Object.entries(record(json.digest))) if (typeof hex === 'string') digest[alg] = hex;
  const pipelineTask = string(record(json.annotations)[PIPELINE_TASK]);
  return { ...optional('name', string(json.name)), ...optional('uri', string(json.uri)), digest, ...optional('pipelineTask', pipelineTask) };
}

function sourceOf(uri: string, dep: Dependency): Source {
  const { repository, revision } = splitSourceUri(uri);
  const ref = revision?.startsWith('refs/') ? revision : undefined;
  return { uri, repository, ...optional('ref', ref), ...optional('commit', sourceCommit(dep.digest, revision)), ...optional('pipelineTask', dep.pipelineTask) };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function string(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
