// "pkg:pypi/torch@<2.6.0" or "pkg:pypi/torch@>=2.0,<2.6": a package URL whose version is a range
// in the package's own ecosystem — a PEP 440 specifier set for PyPI, a semver range for others;
// no version selects every version. Used by `verify --deny` and `query --dependency`. A range
// that cannot be read is a PolicyError (a usage error), never a rule that matches nothing.
import semver from 'semver';

import { PolicyError } from './errors.ts';
import { pep440Contains, parsePep440Specifier } from './pep440.ts';
import { formatPurl, parseBase, parsePurl, samePackage, splitVersion, type PackageUrl } from './purl.ts';
import { comparableVersion } from './version.ts';

export interface DependencyRule {
  /** As the user wrote it, for messages. */
  readonly text: string;
  readonly package: PackageUrl;
  /** How `range` is read: PEP 440 for PyPI packages, semver for the others. */
  readonly scheme: 'pep440' | 'semver';
  /** A normalized PEP 440 specifier set or semver range; "*" when the rule names no version. */
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
  const scheme = pkg.type === 'pypi' ? 'pep440' : 'semver';
  const rangeText = (version ?? '').trim();
  if (rangeText === '') return { text, package: pkg, scheme, range: '*' };
  return { text, package: pkg, scheme, range: scheme === 'pep440' ? pep440Range(text, rangeText) : semverRange(text, rangeText) };
}

function pep440Range(text: string, range: string): string {
  try {
    return parsePep440Specifier(range);
  } catch (err) {
    throw bad(text, (err as Error).message);
  }
}

function semverRange(text: string, rangeText: string): string {
  const range = semver.validRange(rangeText.replace(/==/g, '='), { includePrerelease: true });
  if (range === null) throw bad(text, `"${rangeText}" is not a semver range (e.g. <2.6.0, >=2.0.0 <2.6.0, 2.5.x)`);
  return range;
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
  const inRange = contains(rule, dep.version);
  if (inRange === undefined) {
    const how = rule.scheme === 'pep440' ? 'as a PEP 440 version' : 'with a semver range';
    return { kind: 'undecidable', purl: uri, reason: `version "${dep.version}" of ${formatPurl({ ...dep, version: undefined })} cannot be compared ${how}` };
  }
  return inRange ? { kind: 'match', purl: uri } : undefined;
}

function contains(rule: DependencyRule, version: string): boolean | undefined {
  if (rule.scheme === 'pep440') return pep440Contains(version, rule.range);
  const comparable = comparableVersion(version);
  return comparable === undefined ? undefined : semver.satisfies(comparable, rule.range, { includePrerelease: true });
}

function bad(text: string, reason: string): PolicyError {
  return new PolicyError('BAD_DEPENDENCY_RULE', `${JSON.stringify(text)}: ${reason}`);
}
