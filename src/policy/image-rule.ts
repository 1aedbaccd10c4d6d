// `query --image sha256:<hex>` (optionally `[oci://]repository@sha256:<hex>`): selects the
// container images among resolvedDependencies (oci:// URIs, recorded by digest).
import { PolicyError } from './errors.ts';
import type { Dependency } from './statement-facts.ts';

export interface ImageRule {
  readonly text: string;
  /** Without scheme or tag; undefined matches the digest in any repository. */
  readonly repository?: string;
  readonly sha256: string;
}

export function parseImageRule(text: string): ImageRule {
  const m = /^(?:(?:oci:\/\/)?([^@\s]+)@)?sha256:([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!m?.[2]) {
    throw new PolicyError('BAD_IMAGE_RULE', `${JSON.stringify(text)}: expected sha256:<64 hex> or REPOSITORY@sha256:<64 hex>`);
  }
  const sha256 = m[2].toLowerCase();
  return m[1] === undefined ? { text, sha256 } : { text, repository: withoutTag(m[1]), sha256 };
}

/** `oci://repository@sha256:hex` of every image dependency the rule selects. */
export function matchImages(rule: ImageRule, dependencies: ReadonlyArray<Dependency>): string[] {
  const found: string[] = [];
  for (const dep of dependencies) {
    if (!dep.uri?.startsWith('oci://') || dep.digest.sha256?.toLowerCase() !== rule.sha256) continue;
    const repository = withoutTag(dep.uri.slice('oci://'.length));
    if (rule.repository === undefined || rule.repository === repository) found.push(`oci://${repository}@sha256:${rule.sha256}`);
  }
  return found;
}

// registry:5000/name:tag → registry:5000/name (a ":" after the last "/" starts a tag).
function withoutTag(reference: string): string {
  const slash = reference.lastIndexOf('/');
  const colon = reference.indexOf(':', slash + 1);
  return colon < 0 ? reference : reference.slice(0, colon);
}
