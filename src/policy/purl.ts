// Package URLs (https://github.com/package-url/purl-spec), read only as far as matching needs:
// type, namespace, name and version. Qualifiers and subpath never change which package it is.
export interface PackageUrl {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
}

// Types whose names the purl spec (or the registry) treats case-insensitively.
const CASE_INSENSITIVE = new Set(['pypi', 'npm', 'github', 'bitbucket', 'gitlab', 'composer', 'hex']);

/** Splits `pkg:t/ns/name@version` at the "@" of the last path segment (npm scopes keep theirs). */
export function splitVersion(text: string): { base: string; version?: string } {
  const at = text.indexOf('@', text.lastIndexOf('/') + 1);
  return at < 0 ? { base: text } : { base: text.slice(0, at), version: text.slice(at + 1) };
}

/** Undefined when the text is not a package URL. */
export function parsePurl(text: string): PackageUrl | undefined {
  const withoutExtras = text.replace(/#.*$/s, '');
  const { base, version } = splitVersion(withoutExtras.replace(/\?.*$/s, ''));
  const parsed = parseBase(base);
  if (!parsed) return undefined;
  const decodedVersion = version === undefined || version === '' ? undefined : decode(version);
  return decodedVersion === undefined ? parsed : { ...parsed, version: decodedVersion };
}

/** `pkg:type/[namespace/]name` without a version. */
export function parseBase(base: string): PackageUrl | undefined {
  const m = /^pkg:\/*([a-zA-Z][a-zA-Z0-9.+-]*)\/(.+)$/.exec(base);
  if (!m?.[1] || !m[2]) return undefined;
  const type = m[1].toLowerCase();
  const segments = m[2].split('/').filter((s) => s !== '').map(decode);
  const name = segments.pop();
  if (name === undefined || name === '') return undefined;
  const namespace = segments.length > 0 ? segments.join('/') : undefined;
  return normalize({ type, name, ...(namespace === undefined ? {} : { namespace }) });
}

/** Same package, whatever the spelling the spec allows (PyPI: case, "-", "_", "."). */
export function samePackage(a: PackageUrl, b: PackageUrl): boolean {
  return a.type === b.type && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');
}

export function formatPurl(p: PackageUrl): string {
  const path = p.namespace === undefined ? p.name : `${p.namespace}/${p.name}`;
  return `pkg:${p.type}/${path}${p.version === undefined ? '' : `@${p.version}`}`;
}

function normalize(p: PackageUrl): PackageUrl {
  if (!CASE_INSENSITIVE.has(p.type)) return p;
  const name = p.type === 'pypi' ? p.name.toLowerCase().replace(/[-_.]+/g, '-') : p.name.toLowerCase();
  return p.namespace === undefined ? { type: p.type, name } : { type: p.type, namespace: p.namespace.toLowerCase(), name };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
