// CRC32C as Cloud Storage declares it, checked against the published test vectors (RFC 3720,
// appendix B.4, and the common "123456789" check value).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32c, crc32cBase64 } from '../../src/storage/crc32c.ts';

describe('crc32c', () => {
  it('matches the published check values', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
  });

  it('is written as GCS writes it: base64 of the big-endian four bytes', () => {
    assert.equal(crc32cBase64(Buffer.alloc(32)), Buffer.from([0x8a, 0x91, 0x36, 0xaa]).toString('base64'));
  });
});
