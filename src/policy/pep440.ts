// PyPI version specifiers with their exact PEP 440 meaning (~=, ==, !=, <=, >=, <, >, ===, ==X.*),
// evaluated by @renovatebot/pep440. Its exclusive comparisons (< and >) are simplified (it refuses
// 2.6.0rc1 for <2.6.0rc2 and 1.7.0.post3 for >1.7.post2), so those two follow PEP 440's rules here.
// The versions we test are installed ones, so pre-releases are never excluded for being pre-releases.
import { compare, eq, explain, satisfies, valid, validRange } from '@renovatebot/pep440';

import { PolicyError } from './errors.ts';

const OPERATOR = /^\s*(===|~=|==|!=|<=|>=|<|>)/;

/**
 * A PEP 440 specifier set, normalized to comma-separated clauses. Clauses may also be separated by
 * whitespace (`>=2.0 <2.6`); a bare version means `==`. Anything else is a PolicyError.
 */
export function parsePep440Specifier(text: string): string {
  const trimmed = text.trim();
  if (valid(trimmed) !== null && !OPERATOR.test(trimmed)) return `==${trimmed}`;
  const clauses = trimmed.split(',').flatMap((piece) => piece.trim().split(/\s+(?=[<>=!~])/));
  for (const clause of clauses) {
    if (clause === '' || !OPERATOR.test(clause) || !validRange(clause)) throw new PolicyError('BAD_DEPENDENCY_RULE', problem(clause, text));
  }
  return clauses.join(',');
}

function problem(clause: string, text: string): string {
  const wildcard = /^(\d+(?:\.\d+)*)\.x$/i.exec(clause.replace(/^=+/, ''));
  if (wildcard) return `"${text}" is not a PEP 440 specifier: write ==${wildcard[1] ?? ''}.* for every ${clause}`;
  if (clause === '') return `"${text}" is not a PEP 440 specifier: an empty clause`;
  return `"${text}" is not a PEP 440 specifier: "${clause}" (e.g. <2.6.0, >=2.0,<2.6, ~=2.5, ==2.5.*, !=2.5.1)`;
}

/** Whether an installed version lies in the specifier set; undefined when it is not a PEP 440 version. */
export function pep440Contains(version: string, specifier: string): boolean | undefined {
  const clauses = specifier.split(',');
  if (valid(version) !== null) return clauses.every((clause) => clauseContains(version, clause));
  // Arbitrary equality (===) is the one comparison defined for versions PEP 440 cannot parse.
  if (clauses.every((c) => c.startsWith('==='))) return clauses.every((c) => c.slice(3).trim().toLowerCase() === version.trim().toLowerCase());
  return undefined;
}

function clauseContains(version: string, clause: string): boolean {
  const [, operator = '', rest = ''] = /^(===|~=|==|!=|<=|>=|<|>)\s*(.*)$/.exec(clause) ?? [];
  if (operator === '<') return lessThan(version, rest);
  if (operator === '>') return greaterThan(version, rest);
  return satisfies(version, clause, { prereleases: true });
}

// <V excludes pre-releases of V itself unless V is a pre-release.
function lessThan(version: string, bound: string): boolean {
  if (compare(version, bound) >= 0) return false;
  const v = explain(version);
  const b = explain(bound);
  return !(v && b && !b.is_prerelease && v.is_prerelease && eq(v.base_version, b.base_version));
}

// >V excludes post-releases of V unless V is a post-release, and local versions of V.
function greaterThan(version: string, bound: string): boolean {
  if (compare(version, bound) <= 0) return false;
  const v = explain(version);
  const b = explain(bound);
  if (!v || !b || !eq(v.base_version, b.base_version)) return true;
  if (!b.is_postrelease && v.is_postrelease) return false;
  return v.local === null;
}
