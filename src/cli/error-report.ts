// What a command's error looks like to its user: the text on stderr and the exit code. main()
// prints it; pull also writes its first line as the container's termination message.
import { EXIT, RefusedError, UsageError, hasCode } from './errors.ts';

export interface ErrorReport {
  /** Ends with a newline; its first line alone says what failed. */
  readonly text: string;
  readonly code: number;
}

export function errorReport(command: string, err: unknown): ErrorReport {
  const prefix = `slsa-ml ${command}: `;
  if (err instanceof UsageError) return { text: `${prefix}${err.message}\nRun 'slsa-ml ${command} --help' for usage.\n`, code: EXIT.usage };
  if (err instanceof RefusedError) return { text: `${prefix}refused: ${err.message}\n`, code: EXIT.failed };
  // Library errors (storage, digest, signing, provenance, policy) carry a code and a message
  // that names what failed; anything else is a bug, but still gets one line by default.
  const message = err instanceof Error ? err.message : String(err);
  return { text: hasCode(err) ? `${prefix}${message}\n` : `${prefix}internal error: ${message} (set SLSA_ML_DEBUG=1 for details)\n`, code: EXIT.usage };
}
