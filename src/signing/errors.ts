// Every signing failure carries a code the operator can branch on, and whether a retry can help.
export interface SigningErrorOptions {
  readonly code: string;
  readonly message: string;
  readonly cause?: unknown;
  readonly retryable?: boolean;
}

export class SigningError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(options: SigningErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = 'SigningError';
    this.code = options.code;
    this.retryable = options.retryable ?? false;
  }
}
