// A policy's rules as data — what the policy flags and a policy file set — in one normalized form
// with one digest. The digest is SHA-256 over the canonical JSON of the normalized rules (keys
// sorted, lists in the order given), never over a file's bytes: comments, key order, quoting and
// the spelling of a duration (30d or 720h) do not change it. The canonical form is itself a valid
// policy file, and reading it back gives the same digest.
import { createHash } from 'node:crypto';

import { canonicalJson, type JsonObject } from '../provenance/index.ts';
import type { DependencyRule } from './dependency-rule.ts';
import { COMMIT } from './source-ref.ts';

export interface PolicyRules {
  readonly builderId?: string;
  readonly sourceRepo?: string;
  readonly sourceRef?: string;
  readonly namespace?: string;
  readonly maxAgeMs?: number;
  readonly deny?: ReadonlyArray<DependencyRule>;
  /** The model's OpenSSF model-signing signature must be there and verify. */
  readonly requireModelSignature?: boolean;
}

/** The rules under the policy file's own key names; a key that checks nothing is left out. */
export function canonicalRules(rules: PolicyRules): JsonObject {
  const out: JsonObject = {};
  if (rules.builderId !== undefined) out['builder-id'] = rules.builderId;
  if (rules.sourceRepo !== undefined) out['source-repo'] = rules.sourceRepo;
  // A commit compares case-insensitively; a ref exactly.
  if (rules.sourceRef !== undefined) out['source-ref'] = COMMIT.test(rules.sourceRef) ? rules.sourceRef.toLowerCase() : rules.sourceRef;
  if (rules.namespace !== undefined) out.namespace = rules.namespace;
  if (rules.maxAgeMs !== undefined) out['max-age'] = `${rules.maxAgeMs / 1000}s`;
  if (rules.deny !== undefined && rules.deny.length > 0) out.deny = rules.deny.map((r) => r.text.trim());
  if (rules.requireModelSignature === true) out['require-model-signature'] = true;
  return out;
}

/** Lower-case hex SHA-256 of the canonical rules. */
export function policyDigest(rules: PolicyRules): string {
  return createHash('sha256').update(canonicalJson(canonicalRules(rules)), 'utf8').digest('hex');
}
