// Which Rekor v2 log to write to, as Sigstore's clients choose it: from the signing configuration
// (signing_config.v0.2.json) the TUF repository publishes. The public instance's log is sharded
// and its URL changes about twice a year; the signing configuration names each shard with the time
// it is valid for, so a client that reads it follows the rotation without a new release.
import { SigningError } from '../errors.ts';

const MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

interface Service {
  readonly url?: unknown;
  readonly majorApiVersion?: unknown;
  readonly validFor?: { readonly start?: unknown; readonly end?: unknown };
}

/**
 * The URL of the Rekor v2 log valid at `now` (the one that started last, when several are):
 * `rekorTlogUrls` entries with `majorApiVersion` 2 whose `validFor` holds `now`.
 */
export function rekorV2FromSigningConfig(text: string, now: Date): string {
  let config: { mediaType?: unknown; rekorTlogUrls?: unknown };
  try {
    config = JSON.parse(text) as typeof config;
  } catch (cause) {
    throw invalid(`not JSON (${(cause as Error).message})`, cause);
  }
  if (config.mediaType !== MEDIA_TYPE) throw invalid(`mediaType is ${JSON.stringify(config.mediaType ?? null)}, not ${MEDIA_TYPE}`);
  if (!Array.isArray(config.rekorTlogUrls)) throw invalid('it lists no rekorTlogUrls');
  const valid = (config.rekorTlogUrls as Service[])
    .filter((s) => s.majorApiVersion === 2 && typeof s.url === 'string' && validAt(s, now))
    .sort((a, b) => start(b) - start(a));
  const chosen = valid[0];
  if (!chosen) throw new SigningError({ code: 'TLOG_NOT_CONFIGURED', message: `the signing configuration names no Rekor v2 log valid at ${now.toISOString()}` });
  return chosen.url as string;
}

function validAt(service: Service, now: Date): boolean {
  const end = typeof service.validFor?.end === 'string' ? Date.parse(service.validFor.end) : Infinity;
  return start(service) <= now.getTime() && now.getTime() < end;
}

function start(service: Service): number {
  return typeof service.validFor?.start === 'string' ? Date.parse(service.validFor.start) : Number.NaN;
}

function invalid(why: string, cause?: unknown): SigningError {
  return new SigningError({ code: 'SIGNING_CONFIG_INVALID', message: `the Sigstore signing configuration is not usable: ${why}`, cause });
}
