import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultInstallationName, OutcomeSeal, parseSeal, sealKeyFromSigningKey, sealKeyLine, sealKeysFromFile } from '../../operator/reconcile/seal.ts';
import type { OutcomeValues } from '../../operator/reconcile/outcome.ts';

const signed: OutcomeValues = { signed: 'true', label: 'signed', bundle: 'gs://b/m.pth.sigstore.json' };

describe('the outcome seal', () => {
  it('verifies only for the UID and the exact values it sealed, and names its installation', () => {
    const seal = new OutcomeSeal([randomBytes(32)], 'prod');
    const s = seal.seal('uid-1', signed);
    assert.match(s, /^v2\.prod\.[A-Za-z0-9_-]{43}$/);
    assert.equal(seal.verify('uid-1', signed, s), true);
    assert.equal(seal.verify('uid-2', signed, s), false);
    assert.equal(seal.verify('uid-1', { ...signed, bundle: 'gs://evil/x.sigstore.json' }, s), false);
    assert.equal(seal.verify('uid-1', { signed: 'true', label: 'signed' }, s), false);
    assert.equal(seal.verify('uid-1', signed, undefined), false);
    assert.equal(seal.verify('uid-1', signed, 'v2.prod.'), false);
    // The name is inside the MAC: relabelling a seal as another installation's breaks it.
    assert.equal(seal.verify('uid-1', signed, s.replace('v2.prod.', 'v2.staging.')), false);
    assert.equal(seal.verify('uid-1', signed, s.replace('v2.prod.', 'v1.')), false);
    assert.deepEqual(parseSeal(s), { installation: 'prod', mac: s.slice('v2.prod.'.length) });
    assert.equal(parseSeal('v2.Not_A_Name.abc'), undefined);
    assert.equal(parseSeal('garbage'), undefined);
  });

  it('covers the transparency-log entries when there are any, and seals without them keep verifying', () => {
    const seal = new OutcomeSeal([randomBytes(32)], 'prod');
    const logged: OutcomeValues = { ...signed, transparency: 'https://rekor.internal#41' };
    const s = seal.seal('uid-1', logged);
    assert.equal(seal.verify('uid-1', logged, s), true);
    assert.equal(seal.verify('uid-1', { ...logged, transparency: 'https://rekor.internal#42' }, s), false, 'another entry');
    assert.equal(seal.verify('uid-1', signed, s), false, 'the entry removed');
    // An outcome sealed before entries existed (no transparency value) is the same message as then.
    const before = seal.seal('uid-1', signed);
    assert.equal(seal.verify('uid-1', signed, before), true);
    assert.equal(seal.verify('uid-1', { ...signed, transparency: 'https://rekor.internal#1' }, before), false, 'an entry added');
  });

  it('still recognises the v1 seals that operators before installation names wrote with its key', () => {
    const key = randomBytes(32);
    const message = JSON.stringify(['v1', 'uid', signed.signed, signed.label, signed.bundle, null]);
    const legacy = `v1.${createHmac('sha256', key).update(message).digest().toString('base64url')}`;
    assert.equal(new OutcomeSeal([key], 'any').verify('uid', signed, legacy), true);
    assert.equal(new OutcomeSeal([randomBytes(32)], 'any').verify('uid', signed, legacy), false);
    assert.deepEqual(parseSeal(legacy)?.installation, undefined);
  });

  it('keeps older seals valid after a rotation: the first key seals, every key verifies', () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const before = new OutcomeSeal([oldKey], 'prod').seal('uid', signed);
    const rotated = new OutcomeSeal([newKey, oldKey], 'prod');
    assert.equal(rotated.verify('uid', signed, before), true);
    assert.notEqual(rotated.seal('uid', signed), before);
    assert.equal(new OutcomeSeal([newKey], 'prod').verify('uid', signed, before), false);
  });

  it('refuses short keys and bad names, and reads a key file of one key per line', () => {
    assert.throws(() => new OutcomeSeal([Buffer.from('short')], 'a'), /at least 32 bytes/);
    assert.throws(() => new OutcomeSeal([], 'a'), /at least one key/);
    assert.throws(() => new OutcomeSeal([randomBytes(32)], 'Prod.1'), /installation name "Prod.1" must be a DNS label/);
    const keys = sealKeysFromFile(`${'a'.repeat(44)}\n\n  ${'b'.repeat(44)}  \n`);
    assert.deepEqual(keys.map((k) => k.toString()), ['a'.repeat(44), 'b'.repeat(44)]);
    assert.throws(() => sealKeysFromFile('base64:not base64!'), /not base64/);
  });

  it('derives a stable key from the signing key, which `seal-key` prints as a line that loads the same key', () => {
    const der = (): Buffer => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const one = der();
    assert.deepEqual(sealKeyFromSigningKey(one), sealKeyFromSigningKey(one));
    assert.notDeepEqual(sealKeyFromSigningKey(one), sealKeyFromSigningKey(der()));
    assert.equal(sealKeyFromSigningKey(one).length, 32);
    assert.deepEqual(sealKeysFromFile(`${sealKeyLine(one)}\n`), [sealKeyFromSigningKey(one)]);
    // So a seal made with the derived key verifies with the key file that replaced it.
    const made = new OutcomeSeal([sealKeyFromSigningKey(one)], 'prod').seal('uid', signed);
    assert.equal(new OutcomeSeal([randomBytes(32), ...sealKeysFromFile(sealKeyLine(one))], 'prod').verify('uid', signed, made), true);
  });

  it('names an installation after its builder id by default: stable, and different for another builder', () => {
    const a = defaultInstallationName('https://slsa-ml.dev/operator/prod');
    assert.equal(a, defaultInstallationName('https://slsa-ml.dev/operator/prod'));
    assert.notEqual(a, defaultInstallationName('https://slsa-ml.dev/operator/staging'));
    assert.doesNotThrow(() => new OutcomeSeal([randomBytes(32)], a));
  });
});
