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
