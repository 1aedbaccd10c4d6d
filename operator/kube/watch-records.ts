// One record of a watch or list response, parsed into what the reflector takes: a watch event
// (type and object) or a list item (an object). A record that does not parse, or is not of that
// shape, is described instead — in our own words, never with its text, which tenants write — so
// that the watch can skip it and go on rather than fail on the same bytes again.
import type { ObjectWithMeta } from './list.ts';

export interface WatchEvent {
  readonly type: string;
  readonly object: ObjectWithMeta & { code?: number };
}

/** A record that was skipped: its size, why, and the object's namespace/name when that much was readable. */
export interface UnparseableRecord {
  readonly bytes: number;
  readonly reason: string;
  readonly object?: string;
}

const MAX_NAME = 253;

export function parseWatchEvent(json: Buffer): WatchEvent | UnparseableRecord {
  // `object` is typed for reading: the reflector checks what it uses (the API server sends metadata as an object).
  const value = parse(json);
  if (isUnparseable(value)) return value;
  const event = isObject(value) ? value : {};
  if (typeof event.type !== 'string' || !isObject(event.object)) {
    return new Unparseable(json.length, 'not a watch event: it needs a string `type` and an object `object`', named(event.object));
  }
  return { type: event.type, object: event.object as WatchEvent['object'] };
}

export function parseListItem(json: Buffer): ObjectWithMeta | UnparseableRecord {
  const value = parse(json);
  if (isUnparseable(value)) return value;
  return isObject(value) ? value : new Unparseable(json.length, 'a list item that is not an object');
}

export function isUnparseable(value: unknown): value is UnparseableRecord {
  return value instanceof Unparseable;
}

class Unparseable implements UnparseableRecord {
  readonly bytes: number;
  readonly reason: string;
  readonly object?: string;

  constructor(bytes: number, reason: string, object?: string) {
    this.bytes = bytes;
    this.reason = reason;
    if (object !== undefined) this.object = object;
  }
}

function parse(json: Buffer): unknown {
  try {
    return JSON.parse(json.toString('utf8')) as unknown;
  } catch (err) {
    // V8's message may quote the text; only the position is kept.
    const position = /at position (\d+)/.exec(String(err))?.[1];
    return new Unparseable(json.length, `not valid JSON${position === undefined ? '' : ` (at character ${position})`}`);
  }
}

/** 'namespace/name' when the value has a readable name (truncated). */
function named(value: unknown): string | undefined {
  const metadata = isObject(value) && isObject(value.metadata) ? value.metadata : {};
  if (typeof metadata.name !== 'string') return undefined;
  const name = typeof metadata.namespace === 'string' ? `${metadata.namespace}/${metadata.name}` : metadata.name;
  return name.slice(0, MAX_NAME);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
