import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { createSigner, preAuthEncoding, signStatement } from '../../src/signing/index.ts';
import { parseBundle, parseEnvelope, provenanceStatement, sha256Hex } from '../support/signing-fixtures.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'signing');
const keyPem = readFileSync(join(fixtures, 'test-key.pem'), 'utf8');
const fingerprint = readFileSync(join(fixtures, 'test-key.ssh-fingerprint'), 'utf8').trim();
const payload = Buffer.from(JSON.stringify(provenanceStatement([{ name: 'model.pth', sha256: sha256Hex('weights') }])));

describe('when provenance is signed with a key file', () => {
  it('writes a v0.3 bundle and a one-line envelope holding the same single signature', async () => {
    const out = await signStatement(payload, await createSigner({ kind: 'key', keyPem }));
    const bundle = parseBundle(out.bundleJson);
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.ok(out.envelopeJsonl.endsWith('\n'));
    assert.equal(out.envelopeJsonl.trimEnd().split('\n').length, 1);
    assert.deepEqual(parseEnvelope(out.envelopeJsonl), bundle.dsseEnvelope);
    assert.equal(bundle.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
    assert.equal(bundle.dsseEnvelope.signatures.length, 1);
    assert.deepEqual(Buffer.from(bundle.dsseEnvelope.payload, 'base64'), payload);
  });

  it('names the key by its OpenSSH fingerprint in both the keyid and the bundle hint', async () => {
    const out = await signStatement(payload, await createSigner({ kind: 'key', keyPem }));
    const bundle = parseBundle(out.bundleJson);
    assert.equal(bundle.dsseEnvelope.signatures[0]?.keyid, fingerprint);
    assert.equal(bundle.verificationMaterial?.publicKey?.hint, fingerprint);
  });

  it('signs the PAE with an ASN.1 DER ECDSA signature', async () => {
    const out = await signStatement(payload, await createSigner({ kind: 'key', keyPem }));
    const sig = Buffer.from(parseEnvelope(out.envelopeJsonl).signatures[0]?.sig ?? '', 'base64');
    assert.equal(sig[0], 0x30, 'DER SEQUENCE, not raw r||s');
    const publicKey = createPublicKey(keyPem);
    const pae = preAuthEncoding('application/vnd.in-toto+json', payload);
    assert.ok(verify('sha256', pae, { key: publicKey, dsaEncoding: 'der' }, sig));
  });

  it('accepts a SEC1 "EC PRIVATE KEY" PEM as well as PKCS#8', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sec1 = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    const out = await signStatement(payload, await createSigner({ kind: 'key', keyPem: sec1 }));
    assert.equal(parseEnvelope(out.envelopeJsonl).signatures.length, 1);
  });
});

describe('when the key file is unusable', () => {
  it('refuses a key on another curve', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await assert.rejects(createSigner({ kind: 'key', keyPem: pem }), { code: 'KEY_UNSUPPORTED' });
  });

  it('refuses an RSA key', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await assert.rejects(createSigner({ kind: 'key', keyPem: pem }), { code: 'KEY_UNSUPPORTED' });
  });

  it('refuses garbage without echoing it back', async () => {
    const secretLooking = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n';
    await assert.rejects(createSigner({ kind: 'key', keyPem: secretLooking }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KEY_INVALID');
      assert.ok(!err.message.includes('c2VjcmV0'));
      return true;
    });
  });

  it('refuses an unknown signer kind', async () => {
    await assert.rejects(createSigner({ kind: 'vault' } as never), { code: 'SIGNER_KIND_UNKNOWN' });
  });
});
