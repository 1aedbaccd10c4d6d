// The waits between attempts of a Cloud Storage call: exponential with full jitter, never shorter
// than the service's Retry-After (seconds or an HTTP date), and never longer than the cap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, parseRetryAfter } from '../../src/storage/gcs-retry.ts';

describe('waiting before another attempt', () => {
  it('reads Retry-After as seconds or as an HTTP date, and ignores what it cannot read', () => {
    assert.equal(parseRetryAfter('7'), 7000);
    const now = Date.parse('2026-01-15T12:00:00Z');
    assert.equal(parseRetryAfter('Thu, 15 Jan 2026 12:00:03 GMT', now), 3000);
    assert.equal(parseRetryAfter('Thu, 15 Jan 2026 11:00:00 GMT', now), 0, 'a date in the past: no wait');
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  it('draws each wait below a doubling ceiling up to the cap, and never below the capped Retry-After', () => {
    const policy = { budgetMs: 60_000, initialDelayMs: 100, maxDelayMs: 1000 };
    for (let i = 0; i < 200; i++) {
      assert.ok(backoffMs(policy, 1, undefined) < 100);
      assert.ok(backoffMs(policy, 3, undefined) < 400);
      assert.ok(backoffMs(policy, 30, undefined) <= 1000);
      const after = backoffMs(policy, 1, 600);
      assert.ok(after >= 600 && after <= 1000, String(after));
      assert.equal(backoffMs(policy, 1, 3_600_000) <= 1000, true, 'an hour is capped');
    }
  });
});
