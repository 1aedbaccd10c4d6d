import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { preAuthEncoding, sshFingerprint } from '../../src/signing/index.ts';
import { crc32c } from '../../src/signing/kms/crc32c.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'signing');

describe('CRC32C (the checksum Cloud KMS uses)', () => {
  it('matches the Castagnoli check value and RFC 3720 test vectors', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
    assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  });
});

describe('DSSE pre-authentication encoding', () => {
  it('encodes the example from the DSSE specification', () => {
    const pae = preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world'));
    assert.equal(pae.toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('counts bytes, not characters, for non-ASCII payloads', () => {
    const pae = preAuthEncoding('t', Buffer.from('é'));
    assert.equal(pae.toString(), 'DSSEv1 1 t 2 é');
    assert.equal(preAuthEncoding('é', Buffer.from('x')).toString(), 'DSSEv1 2 é 1 x');
  });

  it('takes any Uint8Array view of the payload, not only a Buffer', () => {
    const bytes = new Uint8Array([0, 104, 105, 0]).subarray(1, 3);
    assert.equal(preAuthEncoding('t', bytes).toString(), 'DSSEv1 1 t 2 hi');
  });
});

describe('key fingerprint used as DSSE keyid', () => {
  it('equals what OpenSSH prints for the same key', () => {
    const key = createPublicKey(readFileSync(join(fixtures, 'test-key.pub.pem')));
    const expected = readFileSync(join(fixtures, 'test-key.ssh-fingerprint'), 'utf8').trim();
    assert.equal(sshFingerprint(key), expected);
  });

  it('refuses keys that are not P-256', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.throws(() => sshFingerprint(publicKey), { code: 'KEY_UNSUPPORTED' });
  });
});
