import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type SummaryCheck } from '../../operator/gate/decide.ts';
import { readInferenceService } from '../../operator/gate/sources.ts';

const GOOD = 'gs://models/team-a/cifar10/v3/pytorch_model.pth';
const signal = new AbortController().signal;
/** A summary stands beside GOOD only. */
const check: SummaryCheck = (uri) => Promise.resolve(uri === GOOD ? { ok: true } : { ok: false, reason: 'no verification summary for policy prod-serving (sha256:ab12…)' });

function isvc(spec: Record<string, unknown>, annotations: Record<string, string> = {}): unknown {
  return { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'cifar10', namespace: 'team-a', annotations }, spec };
}

describe('the serving gate reads an InferenceService', () => {
  it('finds every model it names: the model shorthand, framework shorthands, the explainer and a custom container\'s STORAGE_URI', () => {
    const read = readInferenceService(isvc({
      predictor: { model: { modelFormat: { name: 'pytorch' }, storageUri: GOOD } },
      explainer: { art: { type: 'SquareAttack' }, storageUri: 'gs://models/explainer/' },
      transformer: { containers: [{ name: 'kserve-container', image: 't', env: [{ name: 'STORAGE_URI', value: 'gs://models/transformer/' }] }] },
    }));
    assert.deepEqual(read.sources, [
      { uri: GOOD, field: 'spec.predictor.model.storageUri' },
      { uri: 'gs://models/transformer/', field: 'spec.transformer.containers[0].env[STORAGE_URI]' },
      { uri: 'gs://models/explainer/', field: 'spec.explainer.storageUri' },
    ]);
    assert.deepEqual(read.bypasses, []);
    assert.deepEqual(readInferenceService(isvc({ predictor: { sklearn: { storageUri: GOOD } } })).sources, [{ uri: GOOD, field: 'spec.predictor.sklearn.storageUri' }]);
  });

  it('names each way around the storage initializer', () => {
    const read = readInferenceService(isvc({
      predictor: {
        model: { modelFormat: { name: 'pytorch' }, storage: { key: 'gcs', path: 'm/' } },
        initContainers: [{ name: 'storage-initializer', image: 'mine' }],
        containers: [{ name: 'downloader', image: 'curl' }],
      },
    }, { 'internal.serving.kserve.io/storage-initializer-sourceuri': 'gs://elsewhere/' }));
    assert.deepEqual(read.bypasses.map((b) => b.field), [
      'metadata.annotations[internal.serving.kserve.io/storage-initializer-sourceuri]',
      'spec.predictor.model.storage',
      'spec.predictor.initContainers[0]',
      'spec.predictor.containers[0]',
    ]);
    assert.match(read.bypasses[2]?.reason ?? '', /makes KServe skip injecting the storage initializer/);
  });

  it('names KServe\'s internal labels and annotations on the InferenceService and on a component (the agent annotation, the local-model label)', () => {
    const service = isvc({ predictor: { annotations: { 'internal.serving.kserve.io/agent': 'true' }, model: { modelFormat: { name: 'pytorch' }, storageUri: GOOD } } });
    (service as { metadata: Record<string, unknown> }).metadata.labels = { 'internal.serving.kserve.io/localmodel': 'cifar10' };
    assert.deepEqual(readInferenceService(service).bypasses.map((b) => b.field), [
      'metadata.labels[internal.serving.kserve.io/localmodel]',
      'spec.predictor.annotations[internal.serving.kserve.io/agent]',
    ]);
    const writable = isvc({ predictor: { model: { modelFormat: { name: 'pytorch' }, storageUri: GOOD } } }, { 'storage.kserve.io/readonly': 'false' });
    assert.deepEqual(readInferenceService(writable).bypasses.map((b) => b.field), ['metadata.annotations[storage.kserve.io/readonly]']);
  });
});

describe('the serving gate decides', () => {
  it('admits an InferenceService whose every model has a valid summary', async () => {
    assert.deepEqual(await decide(isvc({ predictor: { model: { modelFormat: { name: 'pytorch' }, storageUri: GOOD } } }), check, signal), { allowed: true, models: [GOOD] });
  });

  it('refuses, with every reason at once: a model without a summary, another scheme, a bypass', async () => {
    const decision = await decide(isvc({
      predictor: { model: { modelFormat: { name: 'pytorch' }, storageUri: 'gs://models/team-a/unsigned/model.pth' }, initContainers: [{ name: 'storage-initializer', image: 'mine' }] },
      explainer: { storageUri: 's3://bucket/explainer/' },
    }), check, signal);
    assert.equal(decision.allowed, false);
    const reasons = decision.allowed ? [] : decision.reasons;
    assert.equal(reasons.length, 3);
    assert.match(reasons[0] ?? '', /^spec\.predictor\.initContainers\[0\]: an init container named storage-initializer/);
    assert.match(reasons[1] ?? '', /^spec\.explainer\.storageUri: s3:\/\/bucket\/explainer\/ is not a gs:\/\/ model/);
    assert.match(reasons[2] ?? '', /^spec\.predictor\.model\.storageUri: gs:\/\/models\/team-a\/unsigned\/model\.pth: no verification summary/);
  });

  it('refuses a TrainedModel: KServe\'s model agent loads it past the storage initializer', async () => {
    const decision = await decide({ apiVersion: 'serving.kserve.io/v1alpha1', kind: 'TrainedModel', spec: { model: { storageUri: GOOD } } }, check, signal);
    assert.equal(decision.allowed, false);
  });

  it('refuses an InferenceService that names no model, and fails closed when a summary cannot be read', async () => {
    const none = await decide(isvc({ predictor: { model: { modelFormat: { name: 'pytorch' } } } }), check, signal);
    assert.equal(none.allowed, false);
    const broken: SummaryCheck = () => Promise.reject(new Error('GCS answered 503\nretry later'));
    const failed = await decide(isvc({ predictor: { model: { modelFormat: { name: 'pytorch' }, storageUri: GOOD } } }), broken, signal);
    assert.deepEqual(failed, { allowed: false, reasons: [`spec.predictor.model.storageUri: ${GOOD}: the verification summary could not be checked: GCS answered 503`] });
  });
});
