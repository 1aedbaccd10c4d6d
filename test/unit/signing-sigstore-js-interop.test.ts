// @sigstore/verify, used directly (not through src/verify), accepts what we sign with a key.
// It checks signatures only — it never sees the model — so the tamper cases it can judge are a
// changed payload and the wrong key; the changed-model case is cosign's (integration tests).
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';

import { editEnvelope, flipPayloadByte, newKeyPair, provenanceStatement, sha256Hex, signWithKey } from '../support/signing-fixtures.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'signing');
const keyPem = readFileSync(join(fixtures, 'test-key.pem'), 'utf8');
// Computed by OpenSSH, not by us: sigstore-js finds the key by this hint.
const fingerprint = readFileSync(join(fixtures, 'test-key.ssh-fingerprint'), 'utf8').trim();
const PKIX_ECDSA_P256_SHA_256 = 5;

type TrustedRoot = Parameters<typeof toTrustMaterial>[0];
type Keys = Exclude<Parameters<typeof toTrustMaterial>[1], ((hint: string) => unknown) | undefined>;

function sigstoreJsVerify(bundleJson: string, publicKeyPem: string): void {
  const emptyRoot = { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] } as unknown as TrustedRoot;
  const rawBytes = createPublicKey(publicKeyPem).export({ format: 'der', type: 'spki' });
  const keys = { [fingerprint]: { rawBytes, keyDetails: PKIX_ECDSA_P256_SHA_256, validFor: { start: new Date(0) } } } as unknown as Keys;
  const verifier = new Verifier(toTrustMaterial(emptyRoot, keys), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(bundleJson))));
}

describe('when @sigstore/verify checks our key-signed bundle', async () => {
  const signed = await signWithKey(keyPem, provenanceStatement([{ name: 'model.pth', sha256: sha256Hex('model') }]));
  const publicPem = createPublicKey(keyPem).export({ format: 'pem', type: 'spki' }).toString();

  it('accepts it, finding the key by the bundle hint', () => {
    assert.doesNotThrow(() => sigstoreJsVerify(signed.bundleJson, publicPem));
  });

  it('rejects a copy with one payload byte changed', () => {
    assert.throws(() => sigstoreJsVerify(editEnvelope(signed.bundleJson, flipPayloadByte), publicPem), { code: 'SIGNATURE_ERROR' });
  });

  it('rejects it under another key', () => {
    assert.throws(() => sigstoreJsVerify(signed.bundleJson, newKeyPair().publicPem), { code: 'SIGNATURE_ERROR' });
  });
});
