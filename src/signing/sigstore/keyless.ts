// Keyless signing: an ephemeral key certified by Fulcio for the caller's OIDC identity, and the
// signature witnessed by Rekor. Both services are @sigstore/sign's; we only wire them.
import { FulcioSigner, RekorWitness } from '@sigstore/sign';

import { DsseSigner } from '../dsse-signer.ts';
import { SigningError } from '../errors.ts';
import type { Signer } from '../signer.ts';
import type { IdentityTokenProvider } from './tokens.ts';

export interface KeylessOptions {
  readonly fulcioURL: string;
  readonly rekorURL: string;
  readonly identityToken: IdentityTokenProvider;
  readonly timeoutMs?: number;
}

export function keylessSigner(options: KeylessOptions): Signer {
  assertServiceURL('fulcioURL', options.fulcioURL);
  assertServiceURL('rekorURL', options.rekorURL);
  const fetchOptions = { timeout: options.timeoutMs ?? 30_000, retry: 2 };
  const keyHolder = new FulcioSigner({
    fulcioBaseURL: options.fulcioURL,
    identityProvider: { getToken: options.identityToken },
    ...fetchOptions,
  });
  const rekor = new RekorWitness({ rekorBaseURL: options.rekorURL, entryType: 'dsse', ...fetchOptions });
  return new DsseSigner({ keyHolder, witnesses: [rekor] });
}

function assertServiceURL(field: string, value: string): void {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new SigningError({ code: 'SIGNER_CONFIG_INVALID', message: `${field} must be an http(s) URL, got ${JSON.stringify(value)}` });
  }
}
