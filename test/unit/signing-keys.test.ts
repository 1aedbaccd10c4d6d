// Signing keys in the forms users bring: keys cosign generated (encrypted, password from
// COSIGN_PASSWORD or a file), Tekton Chains' signing-secrets Secret mounted as files, plain PEM;
// and the forms verify must refuse (a private key where the public key belongs).
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  createSigner,
  decryptCosignKey,
  encryptCosignKey,
  generateSigningKeyPair,
  parsePrivateKey,
  preAuthEncoding,
  readSigningKey,
  signStatement,
} from '../../src/signing/index.ts';
import { verifyProvenance } from '../../src/verify/index.ts';
import { cli } from '../support/cli.ts';
import { parseBundle, provenanceStatement, sha256Hex } from '../support/signing-fixtures.ts';

const COSIGN = join(import.meta.dirname, '..', 'fixtures', 'signing', 'cosign');
const PASSWORD = 'correct horse battery staple';
let dir: string;
let cosignPub: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slsa-ml-keys-'));
  cosignPub = await readFile(join(COSIGN, 'cosign.pub'), 'utf8');
});
after(() => rm(dir, { recursive: true, force: true }));

const payload = Buffer.from(JSON.stringify(provenanceStatement([{ name: 'm', sha256: sha256Hex('m') }])));

/** Signs with the config and checks the signature against the expected public key. */
async function signsAs(config: Parameters<typeof createSigner>[0], publicPem: string): Promise<void> {
  const signed = await signStatement(payload, await createSigner(config));
  const envelope = parseBundle(signed.bundleJson).dsseEnvelope;
  const pae = preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  assert.ok(verify('sha256', pae, { key: createPublicKey(publicPem), dsaEncoding: 'der' }, Buffer.from(envelope.signatures[0]?.sig ?? '', 'base64')));
}

describe('when the key was made by cosign generate-key-pair', () => {
  it('signs with it given the password (as for COSIGN_PASSWORD)', async () => {
    const keyPem = await readFile(join(COSIGN, 'cosign.key'), 'utf8');
    assert.match(keyPem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/);
    await signsAs({ kind: 'key', keyPem, password: PASSWORD }, cosignPub);
  });

  it('asks for the password when none is given, and says a wrong one is wrong', async () => {
    const keyPem = await readFile(join(COSIGN, 'cosign.key'), 'utf8');
    await assert.rejects(createSigner({ kind: 'key', keyPem }), { code: 'KEY_PASSWORD_REQUIRED', message: /COSIGN_PASSWORD/ });
    await assert.rejects(createSigner({ kind: 'key', keyPem, password: 'wrong' }), { code: 'KEY_PASSWORD_WRONG' });
  });

  it('verifies what cosign attest-blob signed (DSSE envelope and Sigstore bundle, in-toto v0.1)', async () => {
    const model = await readFile(join(COSIGN, 'model.safetensors'));
    for (const file of ['model.safetensors.intoto.jsonl', 'model.safetensors.sigstore.json']) {
      const provenance = await readFile(join(COSIGN, file));
      const result = await verifyProvenance({ provenance, trust: { kind: 'key', publicKeyPem: cosignPub }, artifact: { sha256: sha256Hex(model) } });
      assert.equal(result.ok, true, `${file}: ${JSON.stringify(result.checks.filter((c) => !c.ok))}`);
    }
  });
});

describe('when keys are written in cosign\'s format', () => {
  it('round-trips the PKCS#8 key and refuses another password', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const pem = encryptCosignKey(der, Buffer.from('pw'));
    assert.match(pem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    assert.deepEqual(decryptCosignKey(pem, 'ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from('pw')), der);
    assert.throws(() => decryptCosignKey(pem, 'ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from('pW')), { code: 'KEY_PASSWORD_WRONG' });
  });

  it('refuses scrypt parameters cosign never writes (a key file could otherwise demand any memory)', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = encryptCosignKey(privateKey.export({ format: 'der', type: 'pkcs8' }), Buffer.from('pw'));
    const body = JSON.parse(Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64').toString()) as { kdf: { params: { N: number } } };
    body.kdf.params.N = 1 << 24;
    const tampered = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(JSON.stringify(body)).toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
    assert.throws(() => parsePrivateKey(tampered, 'pw'), { code: 'KEY_INVALID', message: /scrypt parameters/ });
  });

  it('makes a pair whose empty-password key opens without a password, as cosign does for COSIGN_PASSWORD=""', async () => {
    const pair = generateSigningKeyPair(new Uint8Array());
    await signsAs({ kind: 'key', keyPem: pair.privateKeyPem }, pair.publicKeyPem);
  });

  it('still reads plain PKCS#8 and SEC1 PEM keys, and refuses a public key with KEY_INVALID', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await signsAs({ kind: 'key', keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }, publicPem);
    await signsAs({ kind: 'key', keyPem: privateKey.export({ format: 'pem', type: 'sec1' }).toString() }, publicPem);
    await assert.rejects(createSigner({ kind: 'key', keyPem: publicPem }), { code: 'KEY_INVALID' });
  });
});

describe('when a Tekton Chains signing-secrets Secret is mounted as a directory', () => {
  it('reads cosign.key with cosign.password from it', async () => {
    const secret = join(dir, 'signing-secrets');
    await cp(COSIGN, secret, { recursive: true });
    const config = await readSigningKey({ path: secret, env: {} });
    await signsAs(config, cosignPub);
  });

  it('prefers COSIGN_PASSWORD, and an explicit password file over both; ignores one trailing newline', async () => {
    const secret = join(dir, 'signing-secrets-env');
    await cp(COSIGN, secret, { recursive: true });
    await writeFile(join(secret, 'cosign.password'), 'not it');
    await signsAs(await readSigningKey({ path: secret, env: { COSIGN_PASSWORD: PASSWORD } }), cosignPub);
    await writeFile(join(dir, 'password'), `${PASSWORD}\n`);
    await signsAs(await readSigningKey({ path: join(secret, 'cosign.key'), passwordFile: join(dir, 'password'), env: { COSIGN_PASSWORD: 'nor this' } }), cosignPub);
    await assert.rejects(async () => createSigner(await readSigningKey({ path: secret, env: {} })), { code: 'KEY_PASSWORD_WRONG' });
  });

  it('uses x509.pem (an unencrypted PKCS#8 key) before cosign.key, as Chains does', async () => {
    const secret = join(dir, 'signing-secrets-x509');
    await cp(COSIGN, secret, { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(secret, 'x509.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await signsAs(await readSigningKey({ path: secret, env: {} }), publicKey.export({ format: 'pem', type: 'spki' }).toString());
  });

  it('names what is missing when the directory holds neither key', async () => {
    const empty = join(dir, 'empty');
    await cp(COSIGN, empty, { recursive: true });
    await unlink(join(empty, 'cosign.key'));
    await assert.rejects(readSigningKey({ path: empty, env: {} }), { code: 'KEY_UNREADABLE', message: /neither x509\.pem nor cosign\.key/ });
  });
});

describe('when slsa-ml keygen writes a key pair', () => {
  it('encrypts the private key with $COSIGN_PASSWORD in cosign\'s format, and attest signs with it', async () => {
    const run = await cli(['keygen', '--output-key-prefix', 'k1'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw1' } });
    assert.equal(run.code, 0, run.stderr);
    const keyPem = await readFile(join(dir, 'k1.key'), 'utf8');
    assert.match(keyPem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/);
    await signsAs({ kind: 'key', keyPem, password: 'pw1' }, await readFile(join(dir, 'k1.pub'), 'utf8'));
  });

  it('takes --password-file or --no-password, and refuses to guess when neither nor COSIGN_PASSWORD is given', async () => {
    await writeFile(join(dir, 'pw'), 'pw2\n');
    assert.equal((await cli(['keygen', '--output-key-prefix', 'k2', '--password-file', 'pw'], { cwd: dir })).code, 0);
    await signsAs({ kind: 'key', keyPem: await readFile(join(dir, 'k2.key'), 'utf8'), password: 'pw2' }, await readFile(join(dir, 'k2.pub'), 'utf8'));
    assert.equal((await cli(['keygen', '--output-key-prefix', 'k3', '--no-password'], { cwd: dir })).code, 0);
    await signsAs({ kind: 'key', keyPem: await readFile(join(dir, 'k3.key'), 'utf8') }, await readFile(join(dir, 'k3.pub'), 'utf8'));
    const refused = await cli(['keygen', '--output-key-prefix', 'k4'], { cwd: dir });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /set COSIGN_PASSWORD, or give --password-file FILE, or --no-password/);
  });
});

describe('when verify is given the private key instead of the public key', () => {
  it('refuses it as a usage error (KEY_IS_PRIVATE) instead of deriving the public key', async () => {
    const run = await cli(['verify', join(COSIGN, 'model.safetensors'), '--key', join(COSIGN, 'cosign.key')]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--key .*cosign\.key: this is a private key; verify with the public key/);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(dir, 'plain.key'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    assert.equal((await cli(['verify', join(COSIGN, 'model.safetensors'), '--key', join(dir, 'plain.key')])).code, 2);
  });
});

describe('when a key-signed bundle is written', () => {
  it('carries verificationMaterial.tlogEntries as [] (sigstore-python requires the field)', async () => {
    const signed = await signStatement(payload, await createSigner({ kind: 'key', keyPem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }));
    const material = (JSON.parse(signed.bundleJson) as { verificationMaterial: Record<string, unknown> }).verificationMaterial;
    assert.deepEqual(material.tlogEntries, []);
  });
});
