// `verify --source-ref`: the source revision a model must have been trained from, either a full
// commit id or a git ref. A branch name alone ("main") or an abbreviated commit would never match
// what provenance records, so it is refused up front instead of failing every model.
import { PolicyError } from './errors.ts';

/** A full git commit id: SHA-1, or SHA-256 in a repository of that object format. */
export const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

const REF = /^refs\/[^\s@]+[^/\s]$/;

export function parseSourceRef(text: string): string {
  const value = text.trim();
  if (COMMIT.test(value) || REF.test(value)) return value;
  throw new PolicyError(
    'BAD_SOURCE_REF',
    `${JSON.stringify(text)} is neither a full commit (40 hex digits) nor a ref such as refs/heads/main or refs/tags/v1`,
  );
}
