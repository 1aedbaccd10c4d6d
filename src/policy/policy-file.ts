// A policy file: one YAML mapping whose keys are the policy flags' names without `--`
// (builder-id, source-repo, source-ref, namespace, max-age, deny as a list,
// require-model-signature as a boolean) plus an optional `name`, the policy's URI or name that
// verification summaries carry. Each value is read with the flag's own parser; an unknown key or
// a bad value is refused naming the key. Whom to trust is never part of a policy: it stays on the
// command line.
import { parseAllDocuments } from 'yaml';

import { parseDependencyRule } from './dependency-rule.ts';
import { parseDuration } from './duration.ts';
import { PolicyError } from './errors.ts';
import { policyDigest, type PolicyRules } from './rules.ts';
import { parseSourceRef } from './source-ref.ts';

export interface PolicyDocument {
  /** The policy's URI or name (`name`), when the file gives one. */
  readonly name?: string;
  readonly rules: PolicyRules;
  /** policyDigest(rules): lower-case hex. */
  readonly digest: string;
}

type Fields = PolicyRules & { readonly name?: string };
type Reader = (value: unknown) => Fields;

const KEYS: Readonly<Record<string, Reader>> = {
  name: (v) => ({ name: text(v) }),
  'builder-id': (v) => ({ builderId: text(v) }),
  'source-repo': (v) => ({ sourceRepo: text(v) }),
  'source-ref': (v) => ({ sourceRef: parseSourceRef(text(v)) }),
  namespace: (v) => ({ namespace: text(v) }),
  'max-age': (v) => ({ maxAgeMs: parseDuration(text(v, 'a duration such as 30d or 12h')) }),
  deny: (v) => ({ deny: list(v).map((item, i) => within(`item ${i + 1}`, () => parseDependencyRule(text(item)))) }),
  'require-model-signature': (v) => ({ requireModelSignature: flag(v) }),
};

/** `source` names the file in messages (a path, or "(inline)"). */
export function parsePolicy(yamlText: string, source: string): PolicyDocument {
  const mapping = readMapping(yamlText, source);
  let fields: Fields = {};
  for (const [key, value] of Object.entries(mapping)) {
    const read = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    if (read === undefined) throw bad(source, `key ${key}: unknown key (known: ${Object.keys(KEYS).join(', ')}; whom to trust is given on the command line, not in a policy)`);
    try {
      fields = { ...fields, ...read(value) };
    } catch (err) {
      if (err instanceof PolicyError) throw bad(source, `key ${key}: ${err.message}`, err);
      throw err;
    }
  }
  const { name, ...rules } = fields;
  return { ...(name === undefined ? {} : { name }), rules, digest: policyDigest(rules) };
}

function readMapping(yamlText: string, source: string): Record<string, unknown> {
  const docs = parseAllDocuments(yamlText, { uniqueKeys: true });
  if (!Array.isArray(docs) || docs.length === 0) throw bad(source, 'is empty: write a mapping of rules (e.g. builder-id: https://…)');
  if (docs.length > 1) throw bad(source, `holds ${docs.length} YAML documents; a policy is one mapping`);
  const [doc] = docs;
  const problem = doc?.errors[0];
  // The parser's first line already says where ("… at line 2, column 8").
  if (problem) throw bad(source, `not valid YAML: ${(problem.message.split('\n')[0] ?? '').replace(/:\s*$/, '')}`);
  const value: unknown = doc?.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(source, `must be a mapping of rules, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function text(value: unknown, what = 'a string'): string {
  if (typeof value !== 'string') throw new PolicyError('BAD_POLICY', `must be ${what}, got ${describe(value)}`);
  if (value.trim() === '') throw new PolicyError('BAD_POLICY', 'must not be empty');
  return value;
}

function list(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new PolicyError('BAD_POLICY', `must be a list of package URL rules, got ${describe(value)}`);
  return value;
}

function flag(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new PolicyError('BAD_POLICY', `must be true or false, got ${describe(value)}`);
  return value;
}

function within<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof PolicyError) throw new PolicyError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'no value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function bad(source: string, reason: string, cause?: unknown): PolicyError {
  return new PolicyError('BAD_POLICY', `policy file ${source}: ${reason}`, cause === undefined ? undefined : { cause });
}
