import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { startGateServer, type GateServer } from '../../operator/gate/server.ts';
import type { SummaryCheck } from '../../operator/gate/decide.ts';
import { makeTestTls, type TestTls } from '../support/tls.ts';

const GOOD = 'gs://models/team-a/cifar10/v3/pytorch_model.pth';
let tls: TestTls;
let gate: GateServer;
let slow = false;
const check: SummaryCheck = async (uri, signal) => {
  if (slow) await new Promise((resolve) => { signal.addEventListener('abort', resolve, { once: true }); });
  return uri === GOOD ? { ok: true } : { ok: false, reason: 'no verification summary for policy prod-serving' };
};

function isvc(uri: string): unknown {
  return { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'cifar10', namespace: 'team-a' }, spec: { predictor: { model: { modelFormat: { name: 'pytorch' }, storageUri: uri } } } };
}

function review(operation: string, object: unknown, oldObject: unknown = null): Record<string, unknown> {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u-1', kind: { group: 'serving.kserve.io', version: 'v1beta1', kind: 'InferenceService' }, operation, namespace: 'team-a', name: 'cifar10', object, oldObject } };
}

function post(body: unknown, path = '/validate'): Promise<{ status: number; json: { response?: { uid: string; allowed: boolean; status?: { message: string } }; error?: string } }> {
  return new Promise((resolve, reject) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port: gate.port, path, method: 'POST', ca: tls.caPem, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) as never }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

describe('the serving gate over HTTPS, as the API server calls it', () => {
  before(async () => {
    tls = makeTestTls();
    gate = await startGateServer({ port: 0, host: '127.0.0.1', tls, check, deadlineMs: 300, log: () => undefined });
  });
  after(() => gate.close());

  it('answers an AdmissionReview with its uid: allowed, or refused with the reasons', async () => {
    const ok = await post(review('CREATE', isvc(GOOD)));
    assert.deepEqual(ok.json.response, { uid: 'u-1', allowed: true });
    const refused = await post(review('CREATE', isvc('gs://models/unsigned.pth')));
    assert.equal(refused.json.response?.allowed, false);
    assert.match(refused.json.response?.status?.message ?? '', /^slsa-ml serving gate refused team-a\/cifar10: spec\.predictor\.model\.storageUri: gs:\/\/models\/unsigned\.pth: no verification summary/);
  });

  it('does not judge an update that changes no model again (scaling a served model does not depend on its summary)', async () => {
    const scaled = { ...(isvc('gs://models/old.pth') as object), spec: { predictor: { minReplicas: 3, model: { modelFormat: { name: 'pytorch' }, storageUri: 'gs://models/old.pth' } } } };
    assert.equal((await post(review('UPDATE', scaled, isvc('gs://models/old.pth')))).json.response?.allowed, true);
    assert.equal((await post(review('UPDATE', isvc('gs://models/new.pth'), isvc('gs://models/old.pth')))).json.response?.allowed, false);
  });

  it('refuses what it cannot decide in time, and answers 400 to what is not an AdmissionReview', async () => {
    slow = true;
    try {
      const late = await post(review('CREATE', isvc(GOOD)));
      assert.equal(late.json.response?.allowed, false);
      assert.match(late.json.response?.status?.message ?? '', /not decided within 300 ms/);
    } finally {
      slow = false;
    }
    assert.equal((await post({ kind: 'Pod' })).status, 400);
    assert.equal((await post('not json')).status, 400);
    assert.equal((await post(review('CREATE', isvc(GOOD)), '/other')).status, 404);
  });
});
