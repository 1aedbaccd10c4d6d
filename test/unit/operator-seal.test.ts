import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { OutcomeSeal, sealKeyFromSigningKey, sealKeysFromFile } from '../../operator/reconcile/index.ts';
import type { OutcomeValues } from '../../operator/reconcile/outcome.ts';

const signed: OutcomeValues = { signed: 'true', label: 'signed', bundle: 'gs://b/m.pth.sigstore.json' };

describe('the outcome seal', () => {
  it('verifies only for the UID and the exact values it sealed', () => {
    const seal = new OutcomeSeal([randomBytes(32)]);
    const s = seal.seal('uid-1', signed);
    assert.match(s, /^v1\.[A-Za-z0-9_-]{43}$/);
    assert.equal(seal.verify('uid-1', signed, s), true);
    assert.equal(seal.verify('uid-2', signed, s), false);
    assert.equal(seal.verify('uid-1', { ...signed, bundle: 'gs://evil/x.sigstore.json' }, s), false);
    assert.equal(seal.verify('uid-1', { signed: 'true', label: 'signed' }, s), false);
    assert.equal(seal.verify('uid-1', signed, undefined), false);
    assert.equal(seal.verify('uid-1', signed, 'v1.'), false);
    assert.equal(seal.verify('uid-1', signed, s.replace('v1.', 'v2.')), false);
  });

  it('keeps older seals valid after a rotation: the first key seals, every key verifies', () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const before = new OutcomeSeal([oldKey]).seal('uid', signed);
    const rotated = new OutcomeSeal([newKey, oldKey]);
    assert.equal(rotated.verify('uid', signed, before), true);
    assert.notEqual(rotated.seal('uid', signed), before);
    assert.equal(new OutcomeSeal([newKey]).verify('uid', signed, before), false);
  });

  it('refuses short keys and reads a key file of one key per line', () => {
    assert.throws(() => new OutcomeSeal([Buffer.from('short')]), /at least 32 bytes/);
    assert.throws(() => new OutcomeSeal([]), /at least one key/);
    const keys = sealKeysFromFile(`${'a'.repeat(44)}\n\n  ${'b'.repeat(44)}  \n`);
    assert.deepEqual(keys.map((k) => k.toString()), ['a'.repeat(44), 'b'.repeat(44)]);
  });

  it('derives a stable key from the signing key, different for another key', () => {
    const der = (): Buffer => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const one = der();
    assert.deepEqual(sealKeyFromSigningKey(one), sealKeyFromSigningKey(one));
    assert.notDeepEqual(sealKeyFromSigningKey(one), sealKeyFromSigningKey(der()));
    assert.equal(sealKeyFromSigningKey(one).length, 32);
  });
});
