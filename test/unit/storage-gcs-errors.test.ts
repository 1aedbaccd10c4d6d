import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { StorageError } from '../../src/storage/index.ts';
import { fromGcsError } from '../../src/storage/gcs-errors.ts';

const apiError = (code: number): Error => Object.assign(new Error(`HTTP ${code}`), { code });
const socketError = (code: string): Error => Object.assign(new Error(code), { code });

describe('when a GCS call fails', () => {
  it('maps HTTP statuses to codes and says which are worth retrying', () => {
    const cases: Array<[Error, string, boolean]> = [
      [apiError(404), 'NOT_FOUND', false],
      [apiError(412), 'ALREADY_EXISTS', false],
      [apiError(403), 'PERMISSION_DENIED', false],
      [apiError(401), 'PERMISSION_DENIED', false],
      [apiError(429), 'UNAVAILABLE', true],
      [apiError(408), 'UNAVAILABLE', true],
      [apiError(500), 'UNAVAILABLE', true],
      [apiError(503), 'UNAVAILABLE', true],
      [apiError(400), 'HTTP_400', false],
      [Object.assign(new Error('gaxios'), { response: { status: 502 } }), 'UNAVAILABLE', true],
    ];
    for (const [err, code, retryable] of cases) {
      const mapped = fromGcsError(err, 'gs://b/k');
      assert.equal(mapped.code, code, err.message);
      assert.equal(mapped.retryable, retryable, err.message);
      assert.equal(mapped.cause, err);
      assert.match(mapped.message, /^gs:\/\/b\/k: /);
    }
  });

  it('treats network failures as transient and anything else as final', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'CONTENT_DOWNLOAD_MISMATCH']) {
      const mapped = fromGcsError(socketError(code), 'gs://b/k');
      assert.equal(mapped.code, 'UNAVAILABLE', code);
      assert.equal(mapped.retryable, true, code);
    }
    const odd = fromGcsError(new TypeError('bad argument'), 'gs://b/k');
    assert.equal(odd.code, 'UNKNOWN');
    assert.equal(odd.retryable, false);
  });

  it('passes a StorageError through unchanged', () => {
    const original = new StorageError('TOO_LARGE', 'x');
    assert.equal(fromGcsError(original, 'gs://b/k'), original);
  });
});
