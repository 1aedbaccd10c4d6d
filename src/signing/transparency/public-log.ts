// `transparency: public`: the Rekor v2 log of Sigstore's public-good instance, found as its clients
// find it — the signing configuration from Sigstore's TUF repository, verified against TUF's root
// of trust (@sigstore/tuf, which carries the initial root), then the log valid now chosen from it.
// A private TUF repository (mirror URL and initial root) works the same way.
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { withDeadline } from '../deadline.ts';
import { SigningError } from '../errors.ts';
import { rekorV2FromSigningConfig } from './signing-config.ts';

export const SIGNING_CONFIG_TARGET = 'signing_config.v0.2.json';

export interface TufSource {
  /** The TUF repository; unset: Sigstore's public one (https://tuf-repo-cdn.sigstore.dev). */
  readonly mirrorURL?: string;
  /** The initial root.json of that repository; unset: the public root @sigstore/tuf carries. */
  readonly rootPath?: string;
  /** Where TUF metadata is cached between runs; unset: a directory under the OS temp dir. */
  readonly cachePath?: string;
}

export async function rekorV2FromTuf(source: TufSource, timeoutMs: number, now: Date = new Date()): Promise<string> {
  // Loaded on demand: the TUF client and its HTTP stack are needed only for `public`.
  const { initTUF } = await import('@sigstore/tuf');
  const cachePath = source.cachePath ?? join(tmpdir(), 'slsa-ml-tuf');
  const text = await withDeadline(async () => {
    try {
      const tuf = await initTUF({ cachePath, ...(source.mirrorURL ? { mirrorURL: source.mirrorURL } : {}), ...(source.rootPath ? { rootPath: source.rootPath } : {}), timeout: timeoutMs, retry: 2 });
      return await tuf.getTarget(SIGNING_CONFIG_TARGET);
    } catch (cause) {
      throw new SigningError({ code: 'TLOG_NOT_CONFIGURED', message: `cannot read ${SIGNING_CONFIG_TARGET} from the TUF repository ${source.mirrorURL ?? 'https://tuf-repo-cdn.sigstore.dev'}: ${(cause as Error).message}`, cause, retryable: true });
    }
  }, timeoutMs * 3, { code: 'TLOG_NOT_CONFIGURED', what: `the TUF repository ${source.mirrorURL ?? 'https://tuf-repo-cdn.sigstore.dev'}` });
  return rekorV2FromSigningConfig(text, now);
}
