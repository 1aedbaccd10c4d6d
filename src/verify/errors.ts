// Failures to set verification up (an unreadable key, an unreachable KMS, a bad trusted root),
// as opposed to a provenance file that fails a check.
export class VerifyError extends Error {
  readonly code: string;

  constructor(code: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'VerifyError';
    this.code = code;
  }
}
