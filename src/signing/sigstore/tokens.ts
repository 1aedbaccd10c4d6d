// OIDC identity-token providers for keyless signing. Each call fetches a fresh token: projected
// service-account tokens rotate on disk and metadata-server tokens expire within the hour. A
// provider is given an AbortSignal carrying the signer's request deadline.
import { readFile } from 'node:fs/promises';

import { DEFAULT_REQUEST_TIMEOUT_MS } from '../deadline.ts';
import { SigningError } from '../errors.ts';
import { firstCause } from '../first-cause.ts';

export type IdentityTokenProvider = (options?: { readonly signal?: AbortSignal }) => Promise<string>;

const METADATA_HOST = 'metadata.google.internal';
const METADATA_PATH = '/computeMetadata/v1/instance/service-accounts/default/identity';

/** Reads the token from a file (e.g. a Kubernetes projected service-account token). */
export function tokenFromFile(path: string): IdentityTokenProvider {
  return async (options) => {
    const token = (await readFile(path, { encoding: 'utf8', ...(options?.signal ? { signal: options.signal } : {}) }).catch((cause: unknown) => {
      throw new SigningError({ code: 'IDENTITY_TOKEN_UNAVAILABLE', message: `cannot read identity token file ${path}: ${firstCause(cause)}`, cause, retryable: true });
    })).trim();
    if (!token) throw new SigningError({ code: 'IDENTITY_TOKEN_UNAVAILABLE', message: `identity token file ${path} is empty`, retryable: true });
    return token;
  };
}

/**
 * Asks the GCE / GKE metadata server for an ID token with the given audience (Fulcio expects
 * `sigstore`). `metadataHost` (host[:port]) defaults to $GCE_METADATA_HOST, then the real server.
 */
export function tokenFromGceMetadata(audience: string, metadataHost?: string): IdentityTokenProvider {
  const host = metadataHost ?? process.env.GCE_METADATA_HOST ?? METADATA_HOST;
  const url = `http://${host}${METADATA_PATH}?audience=${encodeURIComponent(audience)}&format=full`;
  return async (options) => {
    const signal = options?.signal ?? AbortSignal.timeout(DEFAULT_REQUEST_TIMEOUT_MS);
    const response = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' }, signal }).catch((cause: unknown) => {
      throw new SigningError({ code: 'IDENTITY_TOKEN_UNAVAILABLE', message: `metadata server ${host} unreachable: ${firstCause(cause)}`, cause, retryable: true });
    });
    const token = (await response.text()).trim();
    if (!response.ok || !token) {
      throw new SigningError({
        code: 'IDENTITY_TOKEN_UNAVAILABLE',
        message: `metadata server ${host} answered HTTP ${response.status} for an identity token`,
        retryable: response.status >= 500 || response.status === 429,
      });
    }
    return token;
  };
}
