// Layers merge key by key, later layers winning, remembering where each value came from so an
// error can name its source. A variant group (one with `kind`) whose kind a later layer
// changes starts over from that kind's defaults: switching the signer to kms drops keyPath.
import { variantDefaults } from './defaults.ts';
import { isTree, isVariant, SCHEMA, type RawTree, type SchemaGroup } from './schema.ts';

export interface Layer {
  readonly tree: RawTree;
  /** Where a field's value in this layer came from (a file path, an env variable). */
  origin(field: string): string;
}

export interface Merged {
  readonly tree: RawTree;
  readonly origins: ReadonlyMap<string, string>;
}

export function mergeLayers(layers: readonly Layer[]): Merged {
  const tree: RawTree = {};
  const origins = new Map<string, string>();
  for (const layer of layers) mergeGroup(tree, layer.tree, { schema: SCHEMA, path: [], layer, origins });
  return { tree, origins };
}

const DEFAULTS: Layer = { tree: {}, origin: () => 'defaults' };

interface Context {
  readonly schema: SchemaGroup;
  readonly path: readonly string[];
  readonly layer: Layer;
  readonly origins: Map<string, string>;
}

function mergeGroup(into: RawTree, from: RawTree, ctx: Context): void {
  if (isVariant(ctx.schema) && typeof from.kind === 'string' && from.kind !== into.kind) {
    for (const key of Object.keys(into)) delete into[key];
    into.kind = from.kind;
    const defaults = structuredClone(variantDefaults(ctx.path.join('.'), from.kind)) as RawTree;
    mergeGroup(into, defaults, { ...ctx, layer: DEFAULTS });
  }
  for (const [key, value] of Object.entries(from)) {
    const path = [...ctx.path, key];
    const schema = ctx.schema[key];
    if (isTree(value) && schema !== undefined && typeof schema !== 'string') {
      const existing = into[key];
      const target = isTree(existing) ? existing : (into[key] = {});
      mergeGroup(target, value, { ...ctx, schema, path });
      continue;
    }
    into[key] = Array.isArray(value) ? [...value] : value;
    ctx.origins.set(path.join('.'), ctx.layer.origin(path.join('.')));
  }
}
