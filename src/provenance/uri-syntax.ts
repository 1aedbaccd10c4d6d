// Checks on URIs reported in type hints. Output URIs name objects the operator will read and write
// next to, so they are held to a strict form; input URIs are only recorded, so any URI will do.

const SCHEME = /^([a-z][a-z0-9+.-]*):/;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** Whitespace or control characters, which no URI we accept may contain. */
export function hasUnsafeChar(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x20 || code === 0x7f || /\s/.test(char)) return true;
  }
  return false;
}

/** A URI ending in '/' names a directory (a prefix of objects), e.g. a TensorFlow SavedModel. */
export function isDirectoryUri(uri: string): boolean {
  return uri.endsWith('/');
}

/** Why `uri` is not an acceptable output URI, or undefined when it is. */
export function outputUriProblem(uri: string, schemes: readonly string[]): string | undefined {
  if (hasUnsafeChar(uri)) return 'URI contains whitespace or control characters';
  const scheme = SCHEME.exec(uri)?.[1];
  if (scheme === undefined || !schemes.includes(scheme)) {
    return `URI ${JSON.stringify(uri)} must use one of the schemes ${schemes.map((s) => `${s}://`).join(', ')}`;
  }
  const rest = uri.slice(scheme.length + 1);
  if (!rest.startsWith('//')) return `URI ${JSON.stringify(uri)} must start with ${scheme}://`;
  const slash = rest.indexOf('/', 2);
  const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  return authorityProblem(scheme, authority) ?? pathProblem(path);
}

function authorityProblem(scheme: string, authority: string): string | undefined {
  if (scheme === 'file') return authority === '' ? undefined : 'a file:// URI must have an empty host (file:///path)';
  if (scheme === 'gs' && !BUCKET.test(authority)) return `${JSON.stringify(authority)} is not a valid bucket name`;
  return authority === '' ? 'URI has no bucket or host' : undefined;
}

function pathProblem(path: string): string | undefined {
  if (path === '' || path === '/') return 'URI names no object inside the bucket';
  const segments = (isDirectoryUri(path) ? path.slice(0, -1) : path).split('/');
  // Empty, "." and ".." segments would let a URI escape the allowed prefix it textually starts with.
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    return 'URI path must not contain empty, "." or ".." segments';
  }
  return undefined;
}

/** Why `uri` is not a URI at all, or undefined. */
export function inputUriProblem(uri: string): string | undefined {
  if (hasUnsafeChar(uri)) return 'URI contains whitespace or control characters';
  if (!SCHEME.test(uri.toLowerCase()) || uri.indexOf(':') === uri.length - 1) {
    return `${JSON.stringify(uri)} is not a URI (it needs a scheme, e.g. gs://, https://, git+https://)`;
  }
  return undefined;
}

/**
 * The object path a subject is named by: the key inside the bucket for gs:// (without the
 * trailing '/' of a directory), the absolute path for file://.
 */
export function objectPath(uri: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)(\/.*)?$/.exec(uri);
  const path = match?.[2] ?? '';
  const trimmed = isDirectoryUri(path) ? path.slice(0, -1) : path;
  return uri.startsWith('file:') ? trimmed : trimmed.slice(1);
}
