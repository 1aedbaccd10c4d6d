// A trusted_root.json turned into trust material: log keys of every type Sigstore names are read
// as written (an RSA key in PKIX form included) and can verify what their log signs, and a root
// that is not usable is refused with TRUSTED_ROOT_INVALID naming what is wrong.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { initializeCA, initializeCTLog } from '@sigstore/mock';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { VerifyError } from '../../src/verify/errors.ts';
import { logsFromTrustedRoot, trustMaterialFromJson } from '../../src/verify/trusted-root.ts';

type Json = Record<string, unknown>;

const MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

function logEntry(publicKey: KeyObject, keyDetails: string, encoding: 'spki' | 'pkcs1' = 'spki'): Json {
  const der = publicKey.export({ format: 'der', type: encoding });
  const keyId = createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('base64');
  return {
    baseUrl: 'https://rekor.slsa-ml.test',
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: der.toString('base64'), keyDetails, validFor: { start: '2024-01-01T00:00:00Z' } },
    logId: { keyId },
  };
}

describe('a trusted root', () => {
  let ca: Json;
  let ctlog: Json;

  before(async () => {
    const ctKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const authority = await initializeCA(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), await initializeCTLog(ctKeys));
    ca = { certChain: { certificates: [{ rawBytes: Buffer.from(authority.rootCertificate.buffer, authority.rootCertificate.byteOffset, authority.rootCertificate.byteLength).toString('base64') }] }, validFor: { start: '2020-01-01T00:00:00Z' } };
    ctlog = logEntry(ctKeys.publicKey, 'PKIX_ECDSA_P256_SHA_256');
  });

  const root = (tlog: Json, more: Json = {}): Json => ({ mediaType: MEDIA_TYPE, certificateAuthorities: [ca], tlogs: [tlog], ctlogs: [ctlog], timestampAuthorities: [], ...more });

  const keys = [
    { keyDetails: 'PKIX_RSA_PKCS1V15_2048_SHA256', pair: () => generateKeyPairSync('rsa', { modulusLength: 2048 }), type: 'rsa', digest: 'sha256' },
    { keyDetails: 'PKCS1_RSA_PKCS1V5', pair: () => generateKeyPairSync('rsa', { modulusLength: 2048 }), type: 'rsa', digest: 'sha256', encoding: 'pkcs1' as const },
    { keyDetails: 'PKIX_ED25519', pair: () => generateKeyPairSync('ed25519'), type: 'ed25519', digest: null },
    { keyDetails: 'PKIX_ECDSA_P384_SHA_384', pair: () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), type: 'ec', digest: 'sha384' },
  ];

  for (const { keyDetails, pair, type, digest, encoding } of keys) {
    it(`takes a ${keyDetails} log key as written, and it verifies what the log signs`, () => {
      const { publicKey, privateKey } = pair();
      const json = root(logEntry(publicKey, keyDetails, encoding));
      const checkpoint = Buffer.from('rekor.slsa-ml.test - 42\n7\nAAAA\n');
      const signature = sign(digest, checkpoint, privateKey);
      for (const logs of [trustMaterialFromJson(json).tlogs, logsFromTrustedRoot(JSON.stringify(json))]) {
        const [log] = logs;
        assert.equal(logs.length, 1);
        assert.equal(log?.publicKey.asymmetricKeyType, type);
        assert.ok(log.publicKey.equals(publicKey), 'the very key of the root');
        assert.ok(verify(digest, checkpoint, log.publicKey, signature), 'a signature of the log verifies');
        assert.deepEqual(log.validFor, { start: new Date('2024-01-01T00:00:00Z'), end: new Date(8_640_000_000_000_000) });
        assert.deepEqual(log.logID, createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest());
      }
    });
  }

  it('needs the PKIX RSA re-encoding only while @sigstore/verify reads PKIX RSA log keys as PKCS#1 (see READ_AS_PKCS1)', () => {
    const json = root(logEntry(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'PKIX_RSA_PKCS1V15_2048_SHA256'));
    assert.throws(() => toTrustMaterial(TrustedRoot.fromJSON(json)), 'if this no longer throws, the library reads PKIX keys as SPKI: drop the PKIX entries from READ_AS_PKCS1');
  });

  it('names no key by hint: a bundle that asks for one is refused with WRONG_KEY', () => {
    const material = trustMaterialFromJson(root(ctlog));
    assert.throws(() => material.publicKey('abc'), (err: unknown) => err instanceof VerifyError && err.code === 'WRONG_KEY' && /hint abc/.test(err.message));
  });

  it('refuses a root that is not usable with TRUSTED_ROOT_INVALID, saying what is wrong', () => {
    const garbage = Buffer.from('not a key').toString('base64');
    const cases: Array<[string, (() => Json) | string, RegExp]> = [
      ['not JSON', '{"mediaType":', /trusted root is not usable: .*JSON/],
      ['another mediaType', () => ({ ...root(ctlog), mediaType: 'application/json' }), /mediaType is "application\/json", not a Sigstore trusted root/],
      ['a list that is not one', () => root(ctlog, { tlogs: 5 }), /tlogs is not a list/],
      ['a log without a key', () => root({ ...ctlog, publicKey: undefined }), /tlogs\[0\]\.publicKey is not an object/],
      ['a key that is not base64', () => root({ ...ctlog, publicKey: { rawBytes: 'not base64!', keyDetails: 'PKIX_ED25519' } }), /tlogs\[0\]\.publicKey\.rawBytes is not base64 bytes/],
      ['a key that is not a key', () => root({ ...ctlog, publicKey: { rawBytes: garbage, keyDetails: 'PKIX_ED25519' } }), /tlogs\[0\] holds no usable key or certificate/],
      ['a key type Sigstore does not name', () => root({ ...ctlog, publicKey: { ...(ctlog.publicKey as Json), keyDetails: 'PKIX_RSA_4242' } }), /tlogs\[0\] holds no usable key or certificate \(.*PKIX_RSA_4242/],
      ['a log without an id', () => root({ ...ctlog, logId: undefined }), /tlogs\[0\]\.logId is not an object/],
      ['a validity that is not a time', () => root({ ...ctlog, publicKey: { ...(ctlog.publicKey as Json), validFor: { start: 'yesterday' } } }), /tlogs\[0\]\.publicKey\.validFor\.start is not a timestamp/],
      ['a CA certificate that is not one', () => root(ctlog, { certificateAuthorities: [{ certChain: { certificates: [{ rawBytes: garbage }] } }] }), /certificateAuthorities\[0\] holds no usable key or certificate/],
      ['a CA with no certificates', () => root(ctlog, { certificateAuthorities: [{ certChain: { certificates: [] } }] }), /certificateAuthorities\[0\]\.certChain\.certificates is not a list of certificates/],
      ['no CA, no log', () => ({ mediaType: MEDIA_TYPE }), /it lists no certificateAuthorities \(Fulcio\), no tlogs \(Rekor\), no ctlogs/],
    ];
    for (const [what, make, message] of cases) {
      const json = typeof make === 'string' ? make : make();
      assert.throws(() => trustMaterialFromJson(json), (err: unknown) => {
        assert.ok(err instanceof VerifyError, what);
        assert.equal(err.code, 'TRUSTED_ROOT_INVALID', what);
        assert.match(err.message, /^trusted root is not usable: /, what);
        assert.match(err.message, message, what);
        return true;
      });
      if (what !== 'no CA, no log') assert.throws(() => logsFromTrustedRoot(json), (err: unknown) => err instanceof VerifyError && err.code === 'TRUSTED_ROOT_INVALID', `${what}, for key verification`);
    }
  });

  it('gives key verification the logs of a root that has no CA, and none for a root naming no log', () => {
    assert.equal(logsFromTrustedRoot({ mediaType: MEDIA_TYPE, tlogs: [ctlog] }).length, 1);
    assert.deepEqual(logsFromTrustedRoot({ mediaType: MEDIA_TYPE }), []);
  });
});
