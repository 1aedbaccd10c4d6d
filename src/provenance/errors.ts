// Typed failures of provenance building. All are terminal: the same TaskRun fails the same way again.

export type ProvenanceErrorCode =
  | 'BAD_TASKRUN'
  | 'BAD_GITHUB_RUN'
  | 'BAD_SUBJECT'
  | 'NO_SUBJECTS'
  | 'BAD_IMAGE_ID'
  | 'BAD_REF_SOURCE'
  | 'BAD_TIME'
  | 'BAD_QUANTITY'
  | 'NOT_JSON'
  | 'BAD_SETTINGS'
  | HintErrorCode;

export type HintErrorCode =
  | 'BAD_SHAPE'
  | 'BAD_DIGEST'
  | 'MISSING_DIGEST'
  | 'MISSING_URI'
  | 'BAD_URI'
  | 'BAD_PURL'
  | 'CONFLICT';

export class ProvenanceError extends Error {
  readonly code: ProvenanceErrorCode;

  constructor(code: ProvenanceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProvenanceError';
    this.code = code;
  }
}

export interface HintErrorOptions {
  step?: string | undefined;
  cause?: unknown;
}

/** A type-hint result the training Task reported is malformed; the message names the result. */
export class HintError extends ProvenanceError {
  override readonly code: HintErrorCode;
  readonly resultName: string;
  /** The step that reported the result, when it is a step result. */
  readonly step: string | undefined;

  constructor(code: HintErrorCode, resultName: string, reason: string, options?: HintErrorOptions) {
    const where = options?.step === undefined ? '' : ` (step ${options.step})`;
    super(code, `type hint "${resultName}"${where}: ${reason}`, { cause: options?.cause });
    this.name = 'HintError';
    this.code = code;
    this.resultName = resultName;
    this.step = options?.step;
  }
}
