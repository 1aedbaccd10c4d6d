// What policy reads from a verified SLSA v1 statement, converted once from the predicate's
// loose JSON into our own shape. A field of the wrong type reads as absent.
import { ANNOTATION } from '../provenance/index.ts';
import { buildTypeOf, githubWorkflowOf, isGithubStatement, sourceCommit, splitSourceUri, type GithubWorkflow, type InTotoStatement } from '../verify/index.ts';

export interface Dependency {
  readonly name?: string;
  readonly uri?: string;
  readonly digest: Readonly<Record<string, string>>;
}

export interface StatementFacts {
  readonly buildType?: string;
  readonly builderId?: string;
  readonly invocationId?: string;
  readonly startedOn?: string;
  readonly finishedOn?: string;
  /** The TaskRun, from externalParameters (empty for a GitHub Actions statement). */
  readonly taskRun: { readonly namespace?: string; readonly name?: string };
  /** The workflow run, for a GitHub Actions statement (externalParameters.workflow). */
  readonly workflow?: GithubWorkflow;
  /** The training source (the first resolvedDependencies entry named "source"). */
  readonly source?: Source;
  /** Every source (a TaskRun may record one per scope: a code and a config repository). */
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
}

type Json = Readonly<Record<string, unknown>>;

const UNREADABLE = ANNOTATION.unreadable;

export function statementFacts(statement: InTotoStatement): StatementFacts {
  const buildDefinition = record(statement.predicate.buildDefinition);
  const runDetails = record(statement.predicate.runDetails);
  const metadata = record(runDetails.metadata);
  const external = record(buildDefinition.externalParameters);
  const dependencies = list(buildDefinition.resolvedDependencies).map(toDependency);
  const sources = dependencies.flatMap((d) => (d.name === 'source' && d.uri !== undefined ? [sourceOf(d.uri, d)] : []));
  return {
    ...optional('buildType', buildTypeOf(statement)),
    ...optional('builderId', string(record(runDetails.builder).id)),
    ...optional('invocationId', string(metadata.invocationId)),
    ...optional('startedOn', string(metadata.startedOn)),
    ...optional('finishedOn', string(metadata.finishedOn)),
    taskRun: { ...optional('namespace', string(external.namespace)), ...optional('name', string(external.name)) },
    ...(isGithubStatement(statement) ? { workflow: githubWorkflowOf(statement) } : {}),
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
  return { ...optional('name', string(json.name)), ...optional('uri', string(json.uri)), digest };
}

function sourceOf(uri: string, dep: Dependency): Source {
  const { repository, revision } = splitSourceUri(uri);
  const ref = revision?.startsWith('refs/') ? revision : undefined;
  return { uri, repository, ...optional('ref', ref), ...optional('commit', sourceCommit(dep.digest, revision)) };
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
