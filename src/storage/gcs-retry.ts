// Attempts of one idempotent Cloud Storage call under a RetryPolicy: another attempt after a
// retryable StorageError, until the budget is spent. Without a policy, one attempt (the operator).
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageError } from './errors.ts';
import type { RetryPolicy } from './types.ts';

const INITIAL_DELAY_MS = 250;
const MAX_DELAY_MS = 8_000;
/**
 * Faults of the way there and back, which another attempt may not meet. Not PERMISSION_DENIED,
 * retryable for the operator (a metadata server that flaps): a person without credentials should
 * hear so at once, not after the budget.
 */
const TRANSIENT = new Set(['UNAVAILABLE', 'CORRUPTED_IN_TRANSIT']);

/**
 * `attempt` gets its number (1, 2, …), as a write may need to know it is sent again, and the
 * budget left (undefined without a policy): an attempt's deadline must not run past the budget,
 * or a call could last almost twice its budget (a last attempt started just before it ends).
 */
export async function withRetries<T>(policy: RetryPolicy | undefined, attempt: (n: number, leftMs: number | undefined) => Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!policy) return attempt(1, undefined);
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n, Math.max(1, policy.budgetMs - (Date.now() - started)));
    } catch (err) {
      if (!(err instanceof StorageError) || !err.retryable || !TRANSIENT.has(err.code) || signal?.aborted) throw err;
      const wait = backoffMs(policy, n, err.retryAfterMs);
      // A wait that would leave the next attempt too little of the budget to be answered is not
      // started: the caller hears the real fault now, not a doomed attempt's timeout later.
      if (Date.now() - started + wait + minAttemptMs(policy) > policy.budgetMs) throw gaveUp(err, n, Date.now() - started);
      try {
        await sleep(wait, undefined, signal ? { signal } : undefined);
      } catch {
        throw err;
      }
    }
  }
}

/** The least of the budget an attempt is worth starting with: 1 s, or a quarter of a small budget. */
function minAttemptMs(policy: RetryPolicy): number {
  return Math.min(1_000, policy.budgetMs / 4);
}

/**
 * Full jitter over an exponential ceiling (so many clients hit by one outage do not return in
 * step), but never sooner than the service's Retry-After, itself capped.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined): number {
  const cap = policy.maxDelayMs ?? MAX_DELAY_MS;
  const ceiling = Math.min(cap, (policy.initialDelayMs ?? INITIAL_DELAY_MS) * 2 ** (attempt - 1));
  const jittered = Math.random() * ceiling;
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, cap));
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function gaveUp(last: StorageError, attempts: number, elapsedMs: number): StorageError {
  if (attempts === 1) return last;
  return new StorageError(last.code, `${last.message} (gave up after ${attempts} attempts in ${(elapsedMs / 1000).toFixed(1)} s)`, { cause: last, retryable: true });
}
