// Runs @sigstore/verify over a bundle and turns its exceptions into check outcomes.
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { toSignedEntity, Verifier, type Signer, type TrustMaterial, type VerificationPolicy, type VerifierOptions } from '@sigstore/verify';

import { failed, type CheckOutcome } from './result.ts';

const CODES: Readonly<Record<string, string>> = {
  SIGNATURE_ERROR: 'SIGNATURE_INVALID',
  PUBLIC_KEY_ERROR: 'WRONG_KEY',
  UNTRUSTED_SIGNER_ERROR: 'IDENTITY_MISMATCH',
  CERTIFICATE_ERROR: 'CERTIFICATE_UNTRUSTED',
  TIMESTAMP_ERROR: 'TIMESTAMP_INVALID',
};

export function readBundle(json: Readonly<Record<string, unknown>>): Bundle | CheckOutcome {
  try {
    return bundleFromJSON(json);
  } catch (err) {
    return failed('MALFORMED', `not a valid Sigstore bundle: ${(err as Error).message}`);
  }
}

export interface SigstoreCheck {
  readonly trust: TrustMaterial;
  readonly options: VerifierOptions;
  readonly policy?: VerificationPolicy;
}

export function verifyBundle(bundle: Bundle, check: SigstoreCheck): Signer | CheckOutcome {
  try {
    return new Verifier(check.trust, check.options).verify(toSignedEntity(bundle), check.policy);
  } catch (err) {
    const raw = (err as { code?: unknown }).code;
    const sigstoreCode = typeof raw === 'string' ? raw : '';
    const code = CODES[sigstoreCode] ?? (sigstoreCode.startsWith('TLOG') ? 'TLOG_INVALID' : 'SIGNATURE_INVALID');
    return failed(code, (err as Error).message);
  }
}

export function isOutcome(value: object): value is CheckOutcome {
  return 'ok' in value && value.ok === false;
}
