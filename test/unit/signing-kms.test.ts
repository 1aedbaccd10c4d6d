import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';

import { KeyManagementServiceClient } from '@google-cloud/kms';
import { PassThroughClient } from 'google-auth-library';

import { createSigner, signStatement, sshFingerprint } from '../../src/signing/index.ts';
import { crc32c } from '../../src/signing/kms/crc32c.ts';
import { verifyProvenance } from '../../src/verify/index.ts';
import { sha256, startKmsStandin, type KmsStandin } from '../support/kms-standin.ts';
import { parseBundle, provenanceStatement, sha256Hex } from '../support/signing-fixtures.ts';

const modelDigest = sha256Hex('model bytes');
const payload = Buffer.from(JSON.stringify(provenanceStatement([{ name: 'model.pth', sha256: modelDigest }])));

let kms: KmsStandin;
before(async () => {
  kms = await startKmsStandin();
});
after(() => kms.close());
beforeEach(() => {
  kms.faults = {};
  kms.requests.length = 0;
});

function kmsSigner(keyName = kms.keyName) {
  return createSigner({ kind: 'kms', keyName, apiEndpoint: kms.endpoint });
}

describe('when provenance is signed with a Cloud KMS key', () => {
  it('produces a signature that verifies with the key version public key', async () => {
    const out = await signStatement(payload, await kmsSigner());
    const result = await verifyProvenance({ provenance: out.bundleJson, trust: { kind: 'key', publicKeyPem: kms.publicKeyPem }, artifact: { sha256: modelDigest } });
    assert.deepEqual(result.checks.filter((c) => !c.ok), []);
    assert.ok(result.ok);
  });

  it('verifies when the verifier fetches the public key from KMS itself', async () => {
    const out = await signStatement(payload, await kmsSigner());
    const trust = { kind: 'kms' as const, keyName: kms.keyName, apiEndpoint: kms.endpoint };
    for (const provenance of [out.bundleJson, out.envelopeJsonl]) {
      const result = await verifyProvenance({ provenance, trust, artifact: { sha256: modelDigest } });
      assert.ok(result.ok, JSON.stringify(result.checks));
    }
  });

  it('names the KMS key by its fingerprint in keyid and hint', async () => {
    const bundle = parseBundle((await signStatement(payload, await kmsSigner())).bundleJson);
    const fingerprint = sshFingerprint(createPublicKey(kms.publicKeyPem));
    assert.equal(bundle.dsseEnvelope.signatures[0]?.keyid, fingerprint);
    assert.equal(bundle.verificationMaterial?.publicKey?.hint, fingerprint);
  });

  it('sends the digest with its CRC32C, as Google documents for end-to-end integrity', async () => {
    await signStatement(payload, await kmsSigner());
    const signRequest = kms.requests.find((r) => r.path.endsWith(':asymmetricSign'));
    const body = signRequest?.body as { digest: { sha256: string }; digestCrc32c: string };
    const digest = Buffer.from(body.digest.sha256, 'base64');
    assert.equal(digest.length, 32);
    assert.equal(body.digestCrc32c, String(crc32c(digest)));
    assert.equal(signRequest?.path, `/v1/${kms.resourceName}:asymmetricSign`);
  });
});

describe('when KMS answers with a corrupted response', () => {
  it('refuses a signature whose signatureCrc32c does not match', async () => {
    const signer = await kmsSigner();
    kms.faults = { corruptSignatureCrc32c: true };
    await assert.rejects(signStatement(payload, signer), { code: 'KMS_INTEGRITY', retryable: true });
  });

  it('refuses a response that did not verify our digestCrc32c', async () => {
    const signer = await kmsSigner();
    kms.faults = { skipDigestVerification: true };
    await assert.rejects(signStatement(payload, signer), { code: 'KMS_INTEGRITY' });
  });

  it('refuses a signature that is consistent with its CRC32C but does not verify', async () => {
    const signer = await kmsSigner();
    kms.faults = { corruptSignature: true };
    await assert.rejects(signStatement(payload, signer), { code: 'SIGNATURE_SELF_CHECK' });
  });

  it('refuses a public key whose pemCrc32c does not match', async () => {
    kms.faults = { corruptPemCrc32c: true };
    await assert.rejects(kmsSigner(), { code: 'KMS_INTEGRITY' });
  });
});

describe('when the key name is wrong', () => {
  it('refuses a name that is not a gcpkms:// key version', async () => {
    for (const keyName of [
      kms.resourceName,
      'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k',
      'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/one',
      'awskms:///arn:aws:kms:us-east-1:1:key/x',
    ]) {
      await assert.rejects(kmsSigner(keyName), { code: 'KMS_KEY_NAME_INVALID' }, keyName);
    }
  });

  it('reports a key version KMS does not have as not found', async () => {
    const other = kms.keyName.replace(/cryptoKeyVersions\/1$/, 'cryptoKeyVersions/2');
    await assert.rejects(kmsSigner(other), { code: 'KMS_NOT_FOUND', retryable: false });
  });

  it('refuses an answer about another key', async () => {
    const signer = await kmsSigner();
    kms.faults = { answerName: kms.resourceName.replace('/cryptoKeys/signer/', '/cryptoKeys/other/') };
    await assert.rejects(signStatement(payload, signer), { code: 'KMS_NAME_MISMATCH' });
    await assert.rejects(kmsSigner(), { code: 'KMS_NAME_MISMATCH' });
  });
});

describe('the KMS stand-in itself', () => {
  it('rejects a wrong digestCrc32c with INVALID_ARGUMENT, as Cloud KMS does', async () => {
    const url = new URL(kms.endpoint);
    const client = new KeyManagementServiceClient({
      fallback: true,
      apiEndpoint: url.hostname,
      port: Number(url.port),
      protocol: 'http',
      authClient: new PassThroughClient(),
    });
    const digest = sha256(Buffer.from('x'));
    try {
      await assert.rejects(client.asymmetricSign({ name: kms.resourceName, digest: { sha256: digest }, digestCrc32c: { value: crc32c(digest) ^ 1 } }), {
        code: 3, // INVALID_ARGUMENT
      });
    } finally {
      await client.close();
    }
  });
});
