// Every outbound call a signer makes has a deadline, so an unreachable Cloud KMS, Fulcio, Rekor or
// token endpoint fails in seconds with a short reason instead of hanging a worker.
import { SigningError } from './errors.ts';

/** How long one request to Cloud KMS, Fulcio, Rekor or an identity-token endpoint may take. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export function requestTimeout(ms: number | undefined): number {
  const value = ms ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new SigningError({ code: 'SIGNER_CONFIG_INVALID', message: `requestTimeoutMs must be a positive whole number of milliseconds, got ${String(ms)}` });
  }
  return value;
}

/**
 * Runs `work` with an AbortSignal that fires after `ms`, and stops waiting then even if `work`
 * ignores the signal; the deadline becomes a retryable SigningError with `code`.
 */
export async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, failure: { code: string; what: string }): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new SigningError({ code: failure.code, message: `${failure.what} did not answer within ${formatMs(ms)}`, retryable: true }));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
