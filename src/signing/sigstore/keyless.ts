// Keyless signing: an ephemeral key certified by Fulcio for the caller's OIDC identity, and the
// signature witnessed by Rekor. Both services are @sigstore/sign's; we only wire them. Each HTTP
// request to them, and each identity-token fetch, has the signer's request deadline.
import { FulcioSigner, RekorWitness } from '@sigstore/sign';

import { requestTimeout, withDeadline } from '../deadline.ts';
import { DsseSigner } from '../dsse-signer.ts';
import { SigningError } from '../errors.ts';
import type { Signer } from '../signer.ts';
import type { IdentityTokenProvider } from './tokens.ts';

export interface KeylessOptions {
  readonly fulcioURL: string;
  readonly rekorURL: string;
  readonly identityToken: IdentityTokenProvider;
  /** Deadline of each request (Fulcio, Rekor, token); default 30 s. */
  readonly requestTimeoutMs?: number;
}

export function keylessSigner(options: KeylessOptions): Signer {
  assertServiceURL('fulcioURL', options.fulcioURL);
  assertServiceURL('rekorURL', options.rekorURL);
  const timeout = requestTimeout(options.requestTimeoutMs);
  // Public Fulcio and Rekor answer the odd 5xx: two quick retries, each request within the deadline.
  const fetchOptions = { timeout, retry: { retries: 2, minTimeout: 500, maxTimeout: 2000 } };
  const getToken = (): Promise<string> =>
    withDeadline((signal) => options.identityToken({ signal }), timeout, { code: 'IDENTITY_TOKEN_UNAVAILABLE', what: 'the identity token source' });
  const keyHolder = new FulcioSigner({ fulcioBaseURL: options.fulcioURL, identityProvider: { getToken }, ...fetchOptions });
  const rekor = new RekorWitness({ rekorBaseURL: options.rekorURL, entryType: 'dsse', ...fetchOptions });
  return new DsseSigner({ keyHolder, witnesses: [rekor] });
}

function assertServiceURL(field: string, value: string): void {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new SigningError({ code: 'SIGNER_CONFIG_INVALID', message: `${field} must be an http(s) URL, got ${JSON.stringify(value)}` });
  }
}
