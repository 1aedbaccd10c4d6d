// The gate's command line (operator/gate/main.ts): which Cloud Storage requests it makes for a
// review, here that they carry the billing project a Requester Pays bucket needs, from
// --gcs-user-project or $SLSA_ML_GCS_USER_PROJECT, and that a bad one is refused at start.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GateUsageError, runGate } from '../../operator/gate/main.ts';
import { makeTestTls } from '../support/tls.ts';

const tls = makeTestTls();
const policyPath = join(tls.dir, 'policy.yaml');
writeFileSync(policyPath, 'name: https://acme.example/policies/serving/v1\n');
const keyPath = join(tls.dir, 'operator.pub');
writeFileSync(keyPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString());

/** fake Cloud Storage: no object exists; records each request's userProject. */
const billed: Array<string | null> = [];
const gcs: Server = createServer((req, res) => {
  billed.push(new URL(req.url ?? '', 'http://x').searchParams.get('userProject'));
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"No such object"}}');
});
await new Promise<void>((r) => gcs.listen(0, '127.0.0.1', r));
after(() => gcs.close());
const endpoint = `http://127.0.0.1:${(gcs.address() as AddressInfo).port}`;
const args = ['--tls-cert', tls.certPath, '--tls-key', tls.keyPath, '--policy', policyPath, '--key', keyPath, '--port', '0', '--host', '127.0.0.1', '--gcs-endpoint', endpoint];

function review(port: number): Promise<boolean | undefined> {
  const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', kind: { group: 'serving.kserve.io', version: 'v1beta1', kind: 'InferenceService' }, operation: 'CREATE', namespace: 'team-a', name: 'm', object: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'm', namespace: 'team-a' }, spec: { predictor: { model: { modelFormat: { name: 'pytorch' }, storageUri: 'gs://models/m.pth' } } } }, oldObject: null } });
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', ca: tls.caPem, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve((JSON.parse(Buffer.concat(chunks).toString()) as { response?: { allowed?: boolean } }).response?.allowed));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function billedFor(extra: string[], env: NodeJS.ProcessEnv): Promise<Array<string | null>> {
  billed.length = 0;
  const gate = await runGate([...args, ...extra], env);
  assert.ok(gate);
  try {
    assert.equal(await review(gate.port), false, 'no summary in the bucket: refused');
  } finally {
    await gate.close();
  }
  assert.ok(billed.length > 0, 'the gate looked in Cloud Storage');
  return [...new Set(billed)];
}

describe('slsa-ml gate and Requester Pays buckets', () => {
  it('sends --gcs-user-project, else $SLSA_ML_GCS_USER_PROJECT, as userProject; neither: none', async () => {
    assert.deepEqual(await billedFor(['--gcs-user-project', 'serving-billing'], { SLSA_ML_GCS_USER_PROJECT: 'from-env-1' }), ['serving-billing']);
    assert.deepEqual(await billedFor([], { SLSA_ML_GCS_USER_PROJECT: 'from-env-1' }), ['from-env-1']);
    assert.deepEqual(await billedFor([], {}), [null]);
  });

  it('refuses a value that is not a project ID, naming where it came from', async () => {
    await assert.rejects(runGate([...args, '--gcs-user-project', 'Not A Project'], {}), (e) => e instanceof GateUsageError && /--gcs-user-project "Not A Project": not a Google Cloud project ID/.test(e.message));
    await assert.rejects(runGate(args, { SLSA_ML_GCS_USER_PROJECT: 'x y' }), (e) => e instanceof GateUsageError && /\$SLSA_ML_GCS_USER_PROJECT "x y"/.test(e.message));
  });
});
