// A source dependency's URI in the SPDX download-location form provenance uses:
// `git+https://github.com/acme/models@refs/heads/main` names the repository and, after the last
// "@" of its path, a revision (a ref or a commit). An "@" before the path is a user, not a revision
// (`https://user@host/repo`, `git@github.com:org/repo`).
export interface SourceUri {
  /** Without `git+` and without the revision, e.g. https://github.com/acme/models. */
  readonly repository: string;
  readonly revision?: string;
}

export function splitSourceUri(uri: string): SourceUri {
  const body = uri.trim().replace(/^git\+/, '');
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(body);
  // scp-like "host:path" has no scheme; its path starts after the first ":".
  const pathStart = scheme ? body.indexOf('/', scheme[0].length) : body.indexOf(':');
  const at = body.lastIndexOf('@');
  if (pathStart < 0 || at < pathStart || at === body.length - 1) return { repository: body };
  return { repository: body.slice(0, at), revision: body.slice(at + 1) };
}

const COMMIT = /^([0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * The one commit a source dependency names, read the same way by every check: its digest's
 * `sha1` / `gitCommit` (and `sha256`, for SHA-256 repositories) and a commit-shaped revision in
 * its URI. Values that disagree read as `conflicting <a> / <b>`, which matches no commit, so a
 * statement cannot show one check one commit and another check another.
 */
export function sourceCommit(digest: Readonly<Record<string, unknown>>, revision?: string): string | undefined {
  const named = [digest.sha1, digest.gitCommit, digest.sha256, revision && COMMIT.test(revision) ? revision : undefined];
  const commits = [...new Set(named.filter((v): v is string => typeof v === 'string' && v !== '').map((v) => v.toLowerCase()))];
  if (commits.length > 1) return `conflicting ${commits.join(' / ')}`;
  return commits[0];
}
