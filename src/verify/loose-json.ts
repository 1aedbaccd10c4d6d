// Reading a statement's predicate, which is loose JSON a signer wrote: a field of the wrong type
// reads as absent, so a check compares only values of the shape it expects.
import { sourceCommit, splitSourceUri } from './source-uri.ts';

export type Json = Readonly<Record<string, unknown>>;

export function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/** A non-empty string, else undefined. */
export function string(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export interface DependencySource {
  readonly repository: string;
  readonly ref?: string;
  readonly commit?: string;
}

/** A resolvedDependencies entry read as a source: its repository, and the ref and commit it names. */
export function dependencySource(dep: Json): DependencySource {
  const { repository, revision } = splitSourceUri(string(dep.uri) ?? '');
  return { repository, ...optional('ref', revision), ...optional('commit', sourceCommit(record(dep.digest), revision)) };
}
