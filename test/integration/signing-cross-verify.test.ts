// Our key-signed output, judged by verifiers we did not write: cosign (bundle and envelope, for a
// single-file and a directory model) and securesystemslib (envelope). Each must also reject a
// tampered copy. securesystemslib never sees the model, so its tamper cases are a changed payload
// byte and the wrong key; cosign also gets a changed model byte / another root digest.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { editEnvelope, flipPayloadByte, newKeyPair, parseEnvelope, provenanceStatement, sha256Hex, signWithKey } from '../support/signing-fixtures.ts';
import { cosignVerifyBlobAttestation, securesystemslibVerify, type CosignArtifact } from '../support/signing-verifiers.ts';

let dir: string;
const path = (name: string): string => join(dir, name);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slsa-ml-cross-verify-'));
  const key = newKeyPair();
  await writeFile(path('cosign.pub'), key.publicPem);
  await writeFile(path('other.pub'), newKeyPair().publicPem);

  const model = randomBytes(64 * 1024);
  await writeFile(path('model.pth'), model);
  const changed = Buffer.from(model);
  changed[1000] = (changed[1000] as number) ^ 0x01;
  await writeFile(path('changed.pth'), changed);
  await writeOutputs('model.pth', await signWithKey(key.privatePem, provenanceStatement([{ name: 'model.pth', sha256: sha256Hex(model) }])));

  // Any 64-hex root digest stands for a directory model here; that the digest module computes
  // model-signing's root digest is tested with model-signing elsewhere.
  await writeOutputs('saved_model', await signWithKey(key.privatePem, provenanceStatement([{ name: 'saved_model', sha256: DIRECTORY_ROOT }])));
});
after(() => rm(dir, { recursive: true, force: true }));

const DIRECTORY_ROOT = sha256Hex('saved_model root digest');
// cosign and securesystemslib word a signature that no trusted key verifies the same way.
const SIGNATURE_REJECTED = /accepted signatures do not match threshold, Found: 0, Expected 1/i;

async function writeOutputs(model: string, signed: { bundleJson: string; envelopeJsonl: string }): Promise<void> {
  await writeFile(path(`${model}.sigstore.json`), signed.bundleJson);
  await writeFile(path(`${model}.intoto.jsonl`), signed.envelopeJsonl);
  await writeFile(path(`${model}.tampered.sigstore.json`), editEnvelope(signed.bundleJson, flipPayloadByte));
  await writeFile(path(`${model}.tampered.intoto.jsonl`), editEnvelope(signed.envelopeJsonl, flipPayloadByte));
}

const models: ReadonlyArray<{ what: string; name: string; artifact: () => CosignArtifact; changed: () => CosignArtifact }> = [
  { what: 'a single-file model', name: 'model.pth', artifact: () => ({ file: path('model.pth') }), changed: () => ({ file: path('changed.pth') }) },
  { what: 'a directory model', name: 'saved_model', artifact: () => ({ sha256: DIRECTORY_ROOT }), changed: () => ({ sha256: sha256Hex('another tree') }) },
];

for (const model of models) {
  for (const form of ['bundle', 'envelope'] as const) {
    const file = (suffix: string) => path(`${model.name}${suffix}${form === 'bundle' ? '.sigstore.json' : '.intoto.jsonl'}`);
    const input = (suffix = '') => (form === 'bundle' ? { bundle: file(suffix) } : { envelope: file(suffix) });

    describe(`when cosign verifies our ${form} for ${model.what}`, { concurrency: true }, () => {
      it('accepts it', async () => {
        const verdict = await cosignVerifyBlobAttestation(path('cosign.pub'), input(), model.artifact());
        assert.ok(verdict.ok, verdict.output);
        assert.match(verdict.output, /Verified OK/);
      });

      it('rejects a copy with one payload byte changed', async () => {
        const verdict = await cosignVerifyBlobAttestation(path('cosign.pub'), input('.tampered'), model.artifact());
        assert.equal(verdict.ok, false, verdict.output);
        assert.match(verdict.output, SIGNATURE_REJECTED);
      });

      it('rejects it for a changed model', async () => {
        const verdict = await cosignVerifyBlobAttestation(path('cosign.pub'), input(), model.changed());
        assert.equal(verdict.ok, false, verdict.output);
        assert.match(verdict.output, /digest does not match|no matching subject digest/);
      });

      it('rejects it under another key', async () => {
        const verdict = await cosignVerifyBlobAttestation(path('other.pub'), input(), model.artifact());
        assert.equal(verdict.ok, false, verdict.output);
        assert.match(verdict.output, SIGNATURE_REJECTED);
      });
    });
  }

  describe(`when securesystemslib verifies our envelope for ${model.what}`, { concurrency: true }, () => {
    it('accepts it with the key named by the envelope keyid', async () => {
      const verdict = await securesystemslibVerify(path(`${model.name}.intoto.jsonl`), path('cosign.pub'));
      assert.ok(verdict.ok, verdict.output);
      const report = JSON.parse(verdict.output) as { accepted: string[]; scheme: string; payloadType: string };
      const keyid = parseEnvelope(await readFile(path(`${model.name}.intoto.jsonl`), 'utf8')).signatures[0]?.keyid;
      assert.deepEqual(report.accepted, [keyid]);
      assert.equal(report.scheme, 'ecdsa-sha2-nistp256');
      assert.equal(report.payloadType, 'application/vnd.in-toto+json');
    });

    it('rejects a copy with one payload byte changed', async () => {
      const verdict = await securesystemslibVerify(path(`${model.name}.tampered.intoto.jsonl`), path('cosign.pub'));
      assert.equal(verdict.ok, false, verdict.output);
      assert.match(verdict.output, SIGNATURE_REJECTED);
    });

    it('rejects it under another key', async () => {
      const verdict = await securesystemslibVerify(path(`${model.name}.intoto.jsonl`), path('other.pub'));
      assert.equal(verdict.ok, false, verdict.output);
      assert.match(verdict.output, SIGNATURE_REJECTED);
    });
  });
}
