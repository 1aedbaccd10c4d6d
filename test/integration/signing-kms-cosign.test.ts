// Provenance signed through the real @google-cloud/kms client (REST fallback) against the local
// KMS stand-in, accepted by cosign with the key version's public key.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createSigner, signStatement } from '../../src/signing/index.ts';
import { startKmsStandin, type KmsStandin } from '../support/kms-standin.ts';
import { provenanceStatement, sha256Hex } from '../support/signing-fixtures.ts';
import { cosignVerifyBlobAttestation } from '../support/signing-verifiers.ts';

let dir: string;
let kms: KmsStandin;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slsa-ml-kms-cosign-'));
  kms = await startKmsStandin();
  const model = Buffer.from('kms-signed model weights');
  await writeFile(join(dir, 'model.pth'), model);
  await writeFile(join(dir, 'kms.pub'), kms.publicKeyPem);
  const signer = await createSigner({ kind: 'kms', keyName: kms.keyName, apiEndpoint: kms.endpoint });
  const signed = await signStatement(Buffer.from(JSON.stringify(provenanceStatement([{ name: 'model.pth', sha256: sha256Hex(model) }]))), signer);
  await writeFile(join(dir, 'model.pth.sigstore.json'), signed.bundleJson);
  await writeFile(join(dir, 'model.pth.intoto.jsonl'), signed.envelopeJsonl);
});
after(async () => {
  await kms.close();
  await rm(dir, { recursive: true, force: true });
});

describe('when cosign verifies provenance signed with a Cloud KMS key', { concurrency: true }, () => {
  it('accepts the bundle', async () => {
    const verdict = await cosignVerifyBlobAttestation(join(dir, 'kms.pub'), { bundle: join(dir, 'model.pth.sigstore.json') }, { file: join(dir, 'model.pth') });
    assert.ok(verdict.ok, verdict.output);
  });

  it('accepts the envelope', async () => {
    const verdict = await cosignVerifyBlobAttestation(join(dir, 'kms.pub'), { envelope: join(dir, 'model.pth.intoto.jsonl') }, { file: join(dir, 'model.pth') });
    assert.ok(verdict.ok, verdict.output);
  });
});
