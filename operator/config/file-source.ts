// The mounted ConfigMap file → a raw tree, checked against the schema: unknown keys (typos)
// and wrongly typed values are refused here, naming the key's path.
import { parse } from 'yaml';
import { ConfigError } from './errors.ts';
import { REMOVED_KEYS, SCHEMA, type LeafType, type RawTree, type RawValue, type SchemaGroup } from './schema.ts';

export function parseConfigFile(text: string, origin: string): RawTree {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError('', `not valid YAML: ${yamlProblem(err)}`, { cause: err, origin });
  }
  if (doc === null || doc === undefined) return {};
  return readGroup(doc, SCHEMA, [], origin);
}

/**
 * The parser's first line, which already says where ("… at line 2, column 8:"), without the
 * colon and the excerpt that follow it: a one-line reason for a log line or an Event.
 */
function yamlProblem(err: unknown): string {
  const first = ((err as Error).message ?? String(err)).split('\n')[0] ?? '';
  return first.replace(/:\s*$/, '');
}

function readGroup(value: unknown, group: SchemaGroup, path: readonly string[], origin: string): RawTree {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path.join('.'), 'must be a mapping', { origin });
  }
  const tree: RawTree = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childPath = [...path, key];
    const node = Object.hasOwn(group, key) ? group[key] : undefined;
    if (node === undefined) {
      const removed = REMOVED_KEYS[childPath.join('.')];
      if (removed !== undefined) throw new ConfigError(childPath.join('.'), removed, { origin });
      throw new ConfigError(childPath.join('.'), `unknown key (known here: ${Object.keys(group).join(', ')})`, { origin });
    }
    if (child === null) tree[key] = null;
    else if (typeof node === 'string') tree[key] = readLeaf(child, node, childPath.join('.'), origin);
    else tree[key] = readGroup(child, node, childPath, origin);
  }
  return tree;
}

function readLeaf(value: unknown, type: LeafType, field: string, origin: string): RawValue {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      throw new ConfigError(field, `must be a string, got ${describe(value)}`, { origin });
    case 'integer':
      if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
      throw new ConfigError(field, `must be an integer, got ${describe(value)}`, { origin });
    case 'boolean':
      if (typeof value === 'boolean') return value;
      throw new ConfigError(field, `must be true or false, got ${describe(value)}`, { origin });
    case 'list':
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
      throw new ConfigError(field, `must be a list of strings, got ${describe(value)}`, { origin });
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
