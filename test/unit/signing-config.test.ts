// Choosing the Rekor v2 log from a Sigstore signing configuration, as Sigstore's clients do: the v2
// log valid now, the newest of them when shards overlap; never a v1 log or a retired shard.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { rekorV2FromSigningConfig } from '../../src/signing/transparency/signing-config.ts';

const NOW = new Date('2026-12-06T12:00:00Z');
const config = (logs: unknown[], mediaType = 'application/vnd.dev.sigstore.signingconfig.v0.2+json'): string => JSON.stringify({ mediaType, rekorTlogUrls: logs });

describe('the Rekor v2 log a signing configuration names', () => {
  it('is the v2 log valid now; with overlapping shards, the one that started last', () => {
    const text = config([
      { url: 'https://log2025-1.rekor.example', majorApiVersion: 2, validFor: { start: '2025-10-06T00:00:00Z', end: '2026-06-01T00:00:00Z' } },
      { url: 'https://log2026-1.rekor.example', majorApiVersion: 2, validFor: { start: '2026-05-01T00:00:00Z' } },
      { url: 'https://log2026-2.rekor.example', majorApiVersion: 2, validFor: { start: '2026-11-01T00:00:00Z' } },
      { url: 'https://log2027-1.rekor.example', majorApiVersion: 2, validFor: { start: '2027-01-01T00:00:00Z' } },
      { url: 'https://rekor.example', majorApiVersion: 1, validFor: { start: '2026-12-01T00:00:00Z' } },
    ]);
    assert.equal(rekorV2FromSigningConfig(text, NOW), 'https://log2026-2.rekor.example');
  });

  it('refuses a configuration with no v2 log valid now, naming the time', () => {
    const text = config([
      { url: 'https://rekor.example', majorApiVersion: 1, validFor: { start: '2021-01-01T00:00:00Z' } },
      { url: 'https://log2025-1.rekor.example', majorApiVersion: 2, validFor: { start: '2025-10-06T00:00:00Z', end: '2026-06-01T00:00:00Z' } },
      { url: 'https://no-start.rekor.example', majorApiVersion: 2 },
    ]);
    assert.throws(() => rekorV2FromSigningConfig(text, NOW), { code: 'TLOG_NOT_CONFIGURED', message: /no Rekor v2 log valid at 2026-12-06T12:00:00\.000Z/ });
  });

  it('refuses what is not a v0.2 signing configuration', () => {
    assert.throws(() => rekorV2FromSigningConfig('{', NOW), { code: 'SIGNING_CONFIG_INVALID', message: /not JSON/ });
    assert.throws(() => rekorV2FromSigningConfig(config([], 'application/vnd.dev.sigstore.trustedroot+json;version=0.1'), NOW), { code: 'SIGNING_CONFIG_INVALID', message: /mediaType/ });
    assert.throws(() => rekorV2FromSigningConfig(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json' }), NOW), { code: 'SIGNING_CONFIG_INVALID', message: /no rekorTlogUrls/ });
  });
});
