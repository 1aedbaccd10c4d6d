// The exact bytes that get signed: canonical JSON (sorted keys, no whitespace), UTF-8.
import { canonicalJson, toJson } from './json.ts';
import type { Statement } from './types.ts';

export function serializeStatement(statement: Statement): Buffer {
  return Buffer.from(canonicalJson(toJson(statement, 'statement')), 'utf8');
}
