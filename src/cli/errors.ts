// User errors end the command with exit code 2 and one readable line, never a stack trace.
// UsageError: the command line is wrong. InputError: something it names cannot be used
// (missing file, unreachable bucket, malformed TaskRun). RefusedError: the command ran and
// refused to do what was asked (attest: digest mismatch, existing provenance) — exit 1.
export class UsageError extends Error {
  readonly code: string;

  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'UsageError';
    this.code = options?.code ?? 'USAGE';
  }
}

export class InputError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
    this.code = code;
  }
}

export class RefusedError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RefusedError';
    this.code = code;
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The library errors that describe bad input rather than a bug: they all carry a string code. */
export function hasCode(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}
