// Versions of packages outside PyPI, made comparable with semver ranges (PyPI versions follow
// PEP 440 instead: pep440.ts).
import semver from 'semver';

/** A semver string to compare, or undefined when the version cannot be ordered. */
export function comparableVersion(version: string): string | undefined {
  const trimmed = version.trim();
  const valid = semver.valid(trimmed, { loose: true });
  if (valid) return valid;
  // "1.2" or "v3": coerce only what starts like a version, never digits buried in a word.
  return /^v?\d/.test(trimmed) ? (semver.coerce(trimmed, { includePrerelease: true })?.version ?? undefined) : undefined;
}
