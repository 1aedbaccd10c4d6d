import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify } from '../../operator/reconcile/index.ts';

const opts = { attestFailedRuns: false, useFinalizer: true };
const output = [{ name: 'model_ARTIFACT_OUTPUTS' }];

function tr(status: string | undefined, extra: { annotations?: Record<string, string>; finalizers?: string[]; deleting?: boolean; results?: Array<{ name: string }> } = {}) {
  return {
    metadata: {
      name: 'x', namespace: 'n',
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
      ...(extra.deleting ? { deletionTimestamp: '2026-11-25T00:00:00Z' } : {}),
    },
    status: status === undefined ? {} : { conditions: [{ type: 'Succeeded', status }], results: extra.results ?? output },
  };
}

describe('deciding what a TaskRun needs', () => {
  it('holds a running TaskRun with the finalizer, once', () => {
    assert.equal(classify(tr(undefined), opts), 'hold');
    assert.equal(classify(tr('Unknown'), opts), 'hold');
    assert.equal(classify(tr('Unknown', { finalizers: ['slsa-ml.dev/provenance'] }), opts), 'ignore');
    assert.equal(classify(tr('Unknown'), { ...opts, useFinalizer: false }), 'ignore');
  });

  it('attests a succeeded run with model outputs, from task or step results', () => {
    assert.equal(classify(tr('True'), opts), 'attest');
    const stepOnly = { ...tr('True', { results: [] }), status: { conditions: [{ type: 'Succeeded', status: 'True' }], steps: [{ results: [{ name: 'x-ARTIFACT_URI' }] }] } };
    assert.equal(classify(stepOnly, opts), 'attest');
  });

  it('leaves alone a run without output hints, releasing its finalizer', () => {
    assert.equal(classify(tr('True', { results: [{ name: 'accuracy' }] }), opts), 'ignore');
    assert.equal(classify(tr('True', { results: [{ name: 'accuracy' }], finalizers: ['slsa-ml.dev/provenance'] }), opts), 'release');
  });

  it('attests failed runs only when configured to', () => {
    assert.equal(classify(tr('False'), opts), 'ignore');
    assert.equal(classify(tr('False', { finalizers: ['slsa-ml.dev/provenance'] }), opts), 'release');
    assert.equal(classify(tr('False'), { ...opts, attestFailedRuns: true }), 'attest');
  });

  it('never attests twice: a recorded outcome only releases the finalizer', () => {
    assert.equal(classify(tr('True', { annotations: { 'slsa-ml.dev/signed': 'true' } }), opts), 'ignore');
    assert.equal(classify(tr('True', { annotations: { 'slsa-ml.dev/signed': 'failed' }, finalizers: ['slsa-ml.dev/provenance'] }), opts), 'release');
  });

  it('lets a running TaskRun that is being deleted go', () => {
    assert.equal(classify(tr('Unknown', { deleting: true, finalizers: ['slsa-ml.dev/provenance'] }), opts), 'release');
  });
});
