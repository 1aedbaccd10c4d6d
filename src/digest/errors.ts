/** Why a model could not be measured. `code` is stable; `message` names the path and reason. */
export class DigestError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DigestError';
    this.code = code;
  }
}

/** Stops work as soon as the caller's signal fires, with an error that says so. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new DigestError('ABORTED', 'digest aborted', { cause: signal.reason });
  }
}
