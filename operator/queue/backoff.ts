// Capped exponential backoff with jitter, per key; resets when the key succeeds.
export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const exp = policy.initialDelayMs * 2 ** Math.max(0, failures - 1);
  const capped = Math.min(policy.maxDelayMs, exp);
  // ±20% jitter so a burst of failures does not retry in lock-step.
  return Math.round(capped * (0.8 + 0.4 * random()));
}
