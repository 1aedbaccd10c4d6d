// Why the action stopped. The code goes into the job log next to a reason naming the input or
// the variable at fault.
export class ActionError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ActionError';
    this.code = code;
  }
}
