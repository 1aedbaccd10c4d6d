// Why a finished run's outputs cannot be attested, or its provenance not stored. Never retried.
export type AttestErrorCode =
  | 'NO_OUTPUTS'
  // A PipelineRun in which nothing at all reports a model (not an error; the operator records it quietly).
  | 'NO_MODEL_OUTPUT'
  | 'PREFIX_NOT_ALLOWED'
  | 'DIGEST_MISMATCH'
  | 'MODEL_PREDATES_RUN'
  | 'MODEL_TOO_MANY_FILES'
  | 'MODEL_TOO_LARGE'
  | 'STATEMENT_TOO_LARGE'
  | 'PROVENANCE_EXISTS'
  | 'READ_BACK_MISMATCH';

export class AttestError extends Error {
  readonly code: AttestErrorCode;

  constructor(code: AttestErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AttestError';
    this.code = code;
  }
}
