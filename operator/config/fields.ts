// Typed access to the merged raw tree for building the config: each getter either returns a
// usable value or throws ConfigError naming the field, the reason and the value's source.
import { ConfigError } from './errors.ts';
import type { Merged } from './merge.ts';
import { isTree, type RawValue } from './schema.ts';

/** A check returns the reason a value is unusable, or undefined when it is fine. */
export type Check = (value: string) => string | undefined;

export class Fields {
  readonly #merged: Merged;

  constructor(merged: Merged) {
    this.#merged = merged;
  }

  fail(field: string, reason: string): never {
    throw new ConfigError(field, reason, { origin: this.#merged.origins.get(field) });
  }

  /** Keys set (not cleared) in a group. */
  keysOf(group: string): string[] {
    const node = this.#get(group);
    return isTree(node) ? Object.keys(node).filter((key) => node[key] !== null) : [];
  }

  string(field: string, check?: Check): string {
    const value = this.optionalString(field, check);
    return value ?? this.fail(field, 'is required');
  }

  optionalString(field: string, check?: Check): string | undefined {
    const value = this.#get(field);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') return this.fail(field, 'must be a string');
    const reason = check?.(value);
    return reason === undefined ? value : this.fail(field, reason);
  }

  integer(field: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    const value = this.#get(field);
    if (value === undefined || value === null) return this.fail(field, 'is required');
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return this.fail(field, 'must be an integer');
    if (value < min || value > max) return this.fail(field, `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  boolean(field: string): boolean {
    const value = this.#get(field);
    return typeof value === 'boolean' ? value : this.fail(field, 'must be true or false');
  }

  list(field: string, check?: Check): string[] {
    const value = this.#get(field);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return this.fail(field, 'must be a list of strings');
    value.forEach((item, i) => {
      const reason = check?.(item);
      if (reason !== undefined) this.fail(field, `item ${i} ${JSON.stringify(item)}: ${reason}`);
    });
    if (new Set(value).size !== value.length) this.fail(field, 'lists an item twice');
    return [...value];
  }

  #get(field: string): RawValue | undefined {
    let node: RawValue | undefined = this.#merged.tree;
    for (const key of field.split('.')) node = isTree(node) ? node[key] : undefined;
    return node;
  }
}
