// JSON values as we emit them, and the one conversion from arbitrary input into them.
import { ProvenanceError } from './errors.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field of an untrusted object, or undefined when absent or of another type. */
export function stringField(obj: unknown, key: string): string | undefined {
  if (!isRecord(obj)) return undefined;
  const value = obj[key];
  return typeof value === 'string' ? value : undefined;
}

export function recordField(obj: unknown, key: string): Record<string, unknown> | undefined {
  if (!isRecord(obj)) return undefined;
  const value = obj[key];
  return isRecord(value) ? value : undefined;
}

export function arrayField(obj: unknown, key: string): unknown[] {
  if (!isRecord(obj)) return [];
  const value = obj[key];
  return Array.isArray(value) ? value : [];
}

/**
 * Deep copy into plain JSON. Undefined members are dropped (as JSON.stringify would); Dates become
 * RFC 3339 strings because the Kubernetes client deserialises timestamps into them; anything else
 * that JSON cannot carry is an error rather than a silent change of meaning.
 */
export function toJson(value: unknown, where: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new ProvenanceError('NOT_JSON', `${where}: ${String(value)} is not a JSON number`);
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item, i) => toJson(item, `${where}[${i}]`));
  if (isRecord(value)) {
    const out: JsonObject = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined) out[key] = toJson(member, `${where}.${key}`);
    }
    return out;
  }
  throw new ProvenanceError('NOT_JSON', `${where}: a ${typeof value} cannot be written as JSON`);
}

/**
 * Canonical JSON text: object keys sorted recursively by UTF-16 code units, no insignificant
 * whitespace. For the values we emit (strings, safe integers) this is also RFC 8785 (JCS) output.
 */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}
