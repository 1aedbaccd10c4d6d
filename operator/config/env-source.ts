// Environment overrides → a raw tree. Each schema key has one variable (`SLSA_ML_` + its path
// in upper snake case), parsed by the key's type. An empty variable clears an optional value
// (a list becomes empty). Other SLSA_ML_* variables are left alone: tools share the prefix.
import { ConfigError } from './errors.ts';
import { envName, REMOVED_KEYS, schemaLeaves, isTree, type Leaf, type RawTree, type RawValue } from './schema.ts';

export function readEnvironment(env: NodeJS.ProcessEnv): RawTree {
  for (const [field, reason] of Object.entries(REMOVED_KEYS)) {
    const name = envName(field.split('.'));
    if (env[name] !== undefined) throw new ConfigError(field, reason, { origin: name });
  }
  const tree: RawTree = {};
  for (const leaf of schemaLeaves()) {
    const text = env[leaf.envName];
    if (text === undefined) continue;
    setPath(tree, leaf.path, parseValue(text.trim(), leaf));
  }
  return tree;
}

function parseValue(text: string, leaf: Leaf): RawValue {
  if (leaf.type === 'list') return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (text === '') return null;
  const fail = (reason: string): never => {
    throw new ConfigError(leaf.field, `${reason}, got ${JSON.stringify(text)}`, { origin: leaf.envName });
  };
  switch (leaf.type) {
    case 'string':
      return text;
    case 'integer':
      return /^-?\d{1,15}$/.test(text) ? Number(text) : fail('must be an integer');
    case 'boolean':
      if (/^true$/i.test(text)) return true;
      return /^false$/i.test(text) ? false : fail('must be true or false');
  }
}

function setPath(tree: RawTree, path: readonly string[], value: RawValue): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (isTree(next)) node = next;
    else node = node[key] = {};
  }
  node[path[path.length - 1] ?? ''] = value;
}
