// Package versions made comparable with semver ranges. PyPI versions follow PEP 440 (2.6.0rc1,
// 2.5.1+cu121, 2.0), which semver cannot read as they are; they are mapped onto semver so that
// ordering holds for the releases, pre-releases and local builds that training images use.
import semver from 'semver';

const PEP440 =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?(?:-(\d+)|[-_.]?(?:post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/i;

const PRE: Readonly<Record<string, string>> = { a: 'alpha', alpha: 'alpha', b: 'beta', beta: 'beta', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' };

/** A semver string to compare, or undefined when the version cannot be ordered. */
export function comparableVersion(type: string, version: string): string | undefined {
  if (type === 'pypi') return fromPep440(version.trim());
  const trimmed = version.trim();
  const valid = semver.valid(trimmed, { loose: true });
  if (valid) return valid;
  // "1.2" or "v3": coerce only what starts like a version, never digits buried in a word.
  return /^v?\d/.test(trimmed) ? (semver.coerce(trimmed, { includePrerelease: true })?.version ?? undefined) : undefined;
}

function fromPep440(version: string): string | undefined {
  const m = PEP440.exec(version);
  if (!m) return undefined;
  const [, epoch, release = '', pre, preN, postImplicit, postN, devN, local] = m;
  // Another epoch restarts the numbering; no semver range can express that.
  if (epoch !== undefined && Number(epoch) !== 0) return undefined;
  const [major = 0, minor = 0, patch = 0, ...rest] = release.split('.').map(Number);
  const prerelease = preReleaseOf(pre, preN, devN);
  const build = buildOf(rest, postImplicit ?? postN, local);
  const text = `${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ''}${build ? `+${build}` : ''}`;
  return semver.valid(text) ?? undefined;
}

// Build metadata does not take part in ordering: a fourth release number, a post-release and a
// local label (+cu121) all compare equal to the release they extend.
function buildOf(rest: number[], post: string | undefined, local: string | undefined): string {
  const build: string[] = [];
  if (rest.length > 0) build.push(rest.join('.'));
  if (post !== undefined) build.push(`post.${post || '0'}`);
  if (local !== undefined) build.push(local.replace(/[-_]/g, '.'));
  return build.join('.');
}

// X.devN comes before X.aN in PEP 440; a numeric semver identifier sorts before any word.
function preReleaseOf(pre: string | undefined, preN: string | undefined, devN: string | undefined): string | undefined {
  if (pre !== undefined) return `${PRE[pre.toLowerCase()] ?? 'rc'}.${Number(preN || '0')}`;
  if (devN !== undefined) return `0.dev.${Number(devN || '0')}`;
  return undefined;
}
