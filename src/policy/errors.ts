// A policy the user wrote (a deny rule, a duration, an image reference) that cannot be used.
// The CLI turns these into usage errors that name the flag.
export class PolicyError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyError';
    this.code = code;
  }
}
