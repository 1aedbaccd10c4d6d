import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createSigner, signStatement, tokenFromFile, tokenFromGceMetadata, type SignedProvenance } from '../../src/signing/index.ts';
import { verifyProvenance, type TrustConfig } from '../../src/verify/index.ts';
import { editEnvelope, flipPayloadByte, newKeyPair, parseBundle, provenanceStatement, sha256Hex, signWithKey } from '../support/signing-fixtures.ts';
import { identityToken, MOCK_ISSUER, startSigstoreMock, stopSigstoreMock, type SigstoreMock } from '../support/signing-sigstore-mock.ts';

const SUBJECT = 'system:serviceaccount:slsa-ml-system:slsa-ml-operator';
const modelDigest = sha256Hex('saved model');
const payload = Buffer.from(JSON.stringify(provenanceStatement([{ name: 'saved_model', sha256: modelDigest }])));

let mock: SigstoreMock;
let signed: SignedProvenance;

before(async () => {
  mock = await startSigstoreMock();
  const signer = await createSigner({ kind: 'sigstore', fulcioURL: mock.fulcioURL, rekorURL: mock.rekorURL, identityToken: () => Promise.resolve(identityToken({ sub: SUBJECT })) });
  signed = await signStatement(payload, signer);
});
after(stopSigstoreMock);

function identity(certificateIdentity: string | RegExp, oidcIssuer = MOCK_ISSUER, trustedRoot: object = mock.trustedRoot): TrustConfig {
  return { kind: 'identity', certificateIdentity, oidcIssuer, trustedRoot };
}

function failure(result: Awaited<ReturnType<typeof verifyProvenance>>): string | undefined {
  return result.checks.find((c) => !c.ok)?.code;
}

describe('when provenance is signed keyless with Fulcio and Rekor', () => {
  it('carries the Fulcio certificate for the identity, and no key hint or keyid', () => {
    const bundle = parseBundle(signed.bundleJson);
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const cert = new X509Certificate(Buffer.from(bundle.verificationMaterial?.certificate?.rawBytes ?? '', 'base64'));
    assert.match(cert.subjectAltName ?? '', new RegExp(SUBJECT));
    assert.equal(bundle.verificationMaterial?.publicKey, undefined);
    assert.ok(!bundle.dsseEnvelope.signatures[0]?.keyid, 'a certificate-signed envelope has an empty keyid');
  });

  it('carries one Rekor dsse entry with an inclusion proof', () => {
    const bundle = parseBundle(signed.bundleJson);
    const entries = bundle.verificationMaterial?.tlogEntries ?? [];
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.kindVersion.kind, 'dsse');
    assert.ok(entries[0]?.inclusionProof?.checkpoint?.envelope);
  });

  it('verifies with the right identity and issuer', async () => {
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust: identity(SUBJECT), artifact: { sha256: modelDigest } });
    assert.ok(result.ok, JSON.stringify(result.checks));
    assert.deepEqual(result.signer, { kind: 'certificate', subjectAlternativeName: SUBJECT, issuer: MOCK_ISSUER });
  });

  it('verifies with an identity regular expression', async () => {
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust: identity(/^system:serviceaccount:slsa-ml-system:/), artifact: { sha256: modelDigest } });
    assert.ok(result.ok, JSON.stringify(result.checks));
  });

  it('rejects another identity, including a mere prefix of the real one', async () => {
    for (const other of ['system:serviceaccount:tenant:trainer', SUBJECT.slice(0, -1), 'system.serviceaccount.slsa-ml-system.slsa-ml-operator']) {
      const result = await verifyProvenance({ provenance: signed.bundleJson, trust: identity(other), artifact: { sha256: modelDigest } });
      assert.equal(failure(result), 'IDENTITY_MISMATCH', other);
      assert.equal(result.statement, undefined);
    }
  });

  it('rejects another OIDC issuer', async () => {
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust: identity(SUBJECT, 'https://accounts.google.com'), artifact: { sha256: modelDigest } });
    assert.equal(failure(result), 'IDENTITY_MISMATCH');
  });

  it('rejects a certificate from a CA the trusted root does not hold', async () => {
    const root = structuredClone(mock.trustedRoot) as { certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }> };
    // The leaf certificate is a certificate, but not the CA that issued it.
    const leaf = (JSON.parse(signed.bundleJson) as { verificationMaterial: { certificate: { rawBytes: string } } }).verificationMaterial.certificate.rawBytes;
    for (const ca of root.certificateAuthorities) ca.certChain.certificates = [{ rawBytes: leaf }];
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust: identity(SUBJECT, MOCK_ISSUER, root), artifact: { sha256: modelDigest } });
    assert.equal(failure(result), 'CERTIFICATE_UNTRUSTED');
  });

  it('refuses a trusted root that is not one ({}, another mediaType, no CA, no Rekor or CT log key) with TRUSTED_ROOT_INVALID', async () => {
    const without = (field: string) => ({ ...structuredClone<Record<string, unknown>>(mock.trustedRoot), [field]: [] });
    const roots = [{}, { ...(mock.trustedRoot as object), mediaType: 'application/json' }, without('certificateAuthorities'), without('tlogs'), without('ctlogs')];
    for (const root of roots) {
      const result = await verifyProvenance({ provenance: signed.bundleJson, trust: identity(SUBJECT, MOCK_ISSUER, root), artifact: { sha256: modelDigest } });
      assert.equal(failure(result), 'TRUSTED_ROOT_INVALID', JSON.stringify(root).slice(0, 80));
    }
  });

  it('rejects a changed payload, which no longer matches the log entry', async () => {
    const tampered = editEnvelope(signed.bundleJson, flipPayloadByte);
    const result = await verifyProvenance({ provenance: tampered, trust: identity(SUBJECT), artifact: { sha256: modelDigest } });
    assert.equal(failure(result), 'TLOG_INVALID');
  });

  it('cannot verify the bare envelope against an identity, and says why', async () => {
    const result = await verifyProvenance({ provenance: signed.envelopeJsonl, trust: identity(SUBJECT), artifact: { sha256: modelDigest } });
    assert.equal(failure(result), 'NO_CERTIFICATE');
  });

  it('does not pass as signed by a key, and says it is signed with a certificate', async () => {
    const result = await verifyProvenance({ provenance: signed.bundleJson, trust: { kind: 'key', publicKeyPem: newKeyPair().publicPem }, artifact: { sha256: modelDigest } });
    assert.equal(failure(result), 'SIGNED_WITH_CERTIFICATE');
    assert.match(result.checks.find((c) => !c.ok)?.reason ?? '', /--certificate-identity/);
  });

  it('names a key-signed bundle checked against an identity (SIGNED_WITH_KEY), instead of a timestamp failure', async () => {
    const keySigned = await signWithKey(newKeyPair().privatePem, provenanceStatement([{ name: 'm', sha256: modelDigest }]));
    const result = await verifyProvenance({ provenance: keySigned.bundleJson, trust: identity(SUBJECT), artifact: { sha256: modelDigest } });
    assert.equal(failure(result), 'SIGNED_WITH_KEY');
    assert.match(result.checks.find((c) => !c.ok)?.reason ?? '', /signed by a key \(SHA256:[^)]+\).*--key/);
  });
});

describe('when the keyless configuration is wrong', () => {
  it('refuses a Fulcio or Rekor address that is not an http(s) URL', async () => {
    const token = () => Promise.resolve(identityToken({ sub: SUBJECT }));
    await assert.rejects(createSigner({ kind: 'sigstore', fulcioURL: 'fulcio.internal', rekorURL: mock.rekorURL, identityToken: token }), { code: 'SIGNER_CONFIG_INVALID' });
    await assert.rejects(createSigner({ kind: 'sigstore', fulcioURL: mock.fulcioURL, rekorURL: 'ftp://rekor', identityToken: token }), { code: 'SIGNER_CONFIG_INVALID' });
  });
});

describe('when the identity token cannot be had', () => {
  it('fails with a retryable error when the provider fails', async () => {
    const signer = await createSigner({ kind: 'sigstore', fulcioURL: mock.fulcioURL, rekorURL: mock.rekorURL, identityToken: () => Promise.reject(new Error('metadata down')) });
    await assert.rejects(signStatement(payload, signer), { code: 'IDENTITY_TOKEN_READ_ERROR', retryable: true });
  });

  it('never repeats an unparseable token in the error', async () => {
    const secret = 'not-a-jwt-but-maybe-a-secret';
    const signer = await createSigner({ kind: 'sigstore', fulcioURL: mock.fulcioURL, rekorURL: mock.rekorURL, identityToken: () => Promise.resolve(secret) });
    await assert.rejects(signStatement(payload, signer), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'IDENTITY_TOKEN_PARSE_ERROR');
      assert.ok(!JSON.stringify(err, Object.getOwnPropertyNames(err)).includes(secret));
      assert.equal(err.cause, undefined);
      return true;
    });
  });
});

describe('token providers', () => {
  it('reads a token file afresh on every call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slsa-ml-token-'));
    try {
      const path = join(dir, 'token');
      const provider = tokenFromFile(path);
      await writeFile(path, 'first.token.value\n');
      assert.equal(await provider(), 'first.token.value');
      await writeFile(path, 'rotated.token.value');
      assert.equal(await provider(), 'rotated.token.value');
      await writeFile(path, '  \n');
      await assert.rejects(provider(), { code: 'IDENTITY_TOKEN_UNAVAILABLE' });
      await assert.rejects(tokenFromFile(join(dir, 'missing'))(), { code: 'IDENTITY_TOKEN_UNAVAILABLE' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('asks the GCE metadata server for an ID token with the audience, full format and Metadata-Flavor header', async () => {
    const seen: Array<{ url?: string; flavor?: string | string[] }> = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url, flavor: req.headers['metadata-flavor'] });
      if (req.headers['metadata-flavor'] !== 'Google') return res.writeHead(403).end();
      res.writeHead(200, { 'Metadata-Flavor': 'Google' }).end('header.claims.sig');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      assert.equal(await tokenFromGceMetadata('sigstore', host)(), 'header.claims.sig');
      assert.deepEqual(seen, [{ url: '/computeMetadata/v1/instance/service-accounts/default/identity?audience=sigstore&format=full', flavor: 'Google' }]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails clearly when the metadata server refuses', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end('no such service account'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      await assert.rejects(tokenFromGceMetadata('sigstore', host)(), { code: 'IDENTITY_TOKEN_UNAVAILABLE', retryable: false });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
