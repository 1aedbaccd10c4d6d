// Why a finished run's outputs cannot be attested. Every code is a refusal, never retried.
export type AttestErrorCode = 'NO_OUTPUTS' | 'PREFIX_NOT_ALLOWED' | 'DIGEST_MISMATCH';

export class AttestError extends Error {
  readonly code: AttestErrorCode;

  constructor(code: AttestErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AttestError';
    this.code = code;
  }
}
