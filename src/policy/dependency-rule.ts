// "pkg:pypi/torch@<2.6.0" or "pkg:pypi/torch@>=2.0.0 <2.6.0": a package URL whose version is a
// semver range (no version = every version). Used by `verify --deny` and `query --dependency`.
import semver from 'semver';

import { PolicyError } from './errors.ts';
import { formatPurl, parseBase, parsePurl, samePackage, splitVersion, type PackageUrl } from './purl.ts';
import { comparableVersion } from './version.ts';

export interface DependencyRule {
  /** As the user wrote it, for messages. */
  readonly text: string;
  readonly package: PackageUrl;
  /** A valid semver range; "*" when the rule names no version. */
  readonly range: string;
}

export type DependencyMatch =
  | { readonly kind: 'match'; readonly purl: string }
  /** The package is the one named, but its version is missing or cannot be ordered. */
  | { readonly kind: 'undecidable'; readonly purl: string; readonly reason: string };

export function parseDependencyRule(text: string): DependencyRule {
  const { base, version } = splitVersion(text.trim());
  if (/[?#]/.test(base)) throw bad(text, 'qualifiers and subpaths are not supported in a rule');
  const pkg = parseBase(base);
  if (!pkg) throw bad(text, 'expected a package URL such as pkg:pypi/torch@<2.6.0');
  const rangeText = (version ?? '').trim().replace(/==/g, '=');
  if (rangeText === '') return { text, package: pkg, range: '*' };
  const range = semver.validRange(rangeText, { includePrerelease: true });
  if (range === null) throw bad(text, `"${version}" is not a semver range (e.g. <2.6.0, >=2.0.0 <2.6.0, 2.5.x)`);
  return { text, package: pkg, range };
}

/** Every dependency URI that the rule selects (or cannot rule out). */
export function matchDependencies(rule: DependencyRule, uris: readonly string[]): DependencyMatch[] {
  const matches: DependencyMatch[] = [];
  for (const uri of uris) {
    const match = matchDependency(rule, uri);
    if (match) matches.push(match);
  }
  return matches;
}

export function matchDependency(rule: DependencyRule, uri: string): DependencyMatch | undefined {
  const dep = parsePurl(uri);
  if (!dep || !samePackage(rule.package, dep)) return undefined;
  if (rule.range === '*') return { kind: 'match', purl: uri };
  if (dep.version === undefined) return { kind: 'undecidable', purl: uri, reason: `${uri} names no version` };
  const version = comparableVersion(dep.type, dep.version);
  if (version === undefined) return { kind: 'undecidable', purl: uri, reason: `version "${dep.version}" of ${formatPurl({ ...dep, version: undefined })} cannot be compared` };
  return semver.satisfies(version, rule.range, { includePrerelease: true }) ? { kind: 'match', purl: uri } : undefined;
}

function bad(text: string, reason: string): PolicyError {
  return new PolicyError('BAD_DEPENDENCY_RULE', `${JSON.stringify(text)}: ${reason}`);
}
