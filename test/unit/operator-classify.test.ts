import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { classify, OutcomeSeal } from '../../operator/reconcile/index.ts';
import { outcomeMetadata, outcomeValues } from '../../operator/reconcile/outcome.ts';

const seal = new OutcomeSeal([randomBytes(32)], 'test');
const opts = { attestFailedRuns: false, useFinalizer: true, seal };
const output = [{ name: 'model_ARTIFACT_OUTPUTS' }];
const UID = '6f1c2a3e-0000-4000-8000-000000000001';

interface Extra {
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  finalizers?: string[];
  deleting?: boolean;
  results?: Array<{ name: string }>;
  declared?: Array<{ name: string }>;
}

function tr(status: string | undefined, extra: Extra = {}) {
  return {
    metadata: {
      name: 'x', namespace: 'n', uid: UID,
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
      ...(extra.labels ? { labels: extra.labels } : {}),
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
      ...(extra.deleting ? { deletionTimestamp: '2026-11-25T00:00:00Z' } : {}),
    },
    status: {
      taskSpec: { results: extra.declared ?? output },
      ...(status === undefined ? {} : { conditions: [{ type: 'Succeeded', status }], results: extra.results ?? output }),
    },
  };
}

/** The metadata the operator itself records for an outcome, sealed for `uid`. */
function recorded(kind: 'signed' | 'failed', uid = UID): { annotations: Record<string, string>; labels: Record<string, string> } {
  const values = outcomeValues(kind === 'signed' ? { kind, bundles: ['gs://b/m.pth.sigstore.json'] } : { kind, code: 'DIGEST_MISMATCH', reason: 'x' });
  const meta = outcomeMetadata(values, seal.seal(uid, values));
  return { annotations: meta.annotations ?? {}, labels: meta.labels ?? {} };
}

describe('deciding what a TaskRun needs', () => {
  it('holds a running TaskRun that declares a model output with the finalizer, once', () => {
    assert.equal(classify(tr(undefined), opts), 'hold');
    assert.equal(classify(tr('Unknown'), opts), 'hold');
    assert.equal(classify(tr('Unknown', { finalizers: ['slsa-ml.dev/provenance'] }), opts), 'ignore');
    assert.equal(classify(tr('Unknown'), { ...opts, useFinalizer: false }), 'ignore');
  });

  it('does not hold a running TaskRun whose Task declares no model output (step results count)', () => {
    assert.equal(classify(tr('Unknown', { declared: [{ name: 'accuracy' }] }), opts), 'ignore');
    const stepDeclared = { ...tr('Unknown', { declared: [] }) };
    stepDeclared.status.taskSpec = { results: [], steps: [{ results: [{ name: 'MODEL_ARTIFACT_URI' }] }] } as never;
    assert.equal(classify(stepDeclared, opts), 'hold');
    const noSpecYet = { metadata: { name: 'x', namespace: 'n', uid: UID }, status: {} };
    assert.equal(classify(noSpecYet, opts), 'ignore');
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

  it('never attests twice: an outcome sealed by the operator only releases the finalizer', () => {
    assert.equal(classify(tr('True', recorded('signed')), opts), 'ignore');
    assert.equal(classify(tr('True', { ...recorded('failed'), finalizers: ['slsa-ml.dev/provenance'] }), opts), 'release');
  });

  it('when a tenant pre-sets the outcome, it still attests: unsealed values decide nothing', () => {
    const forged = { annotations: { 'slsa-ml.dev/signed': 'true', 'slsa-ml.dev/bundle': 'gs://elsewhere/x.sigstore.json' }, labels: { 'slsa-ml.dev/provenance': 'signed' } };
    assert.equal(classify(tr('True', forged), opts), 'attest');
    // A seal copied from another TaskRun (other UID) does not transfer: it is judged against our own attestation.
    assert.equal(classify(tr('True', recorded('signed', 'another-uid')), opts), 'judge');
    // Sealed values with one of them changed afterwards are not ours either.
    const tampered = recorded('failed');
    tampered.annotations['slsa-ml.dev/signed'] = 'true';
    tampered.labels['slsa-ml.dev/provenance'] = 'signed';
    assert.equal(classify(tr('True', tampered), opts), 'judge');
    // A seal made with another key (another installation) is not ours.
    const other = new OutcomeSeal([randomBytes(32)], 'test');
    assert.equal(classify(tr('True', recorded('signed')), { ...opts, seal: other }), 'judge');
  });

  it('judges an outcome another seal made once: a seal this process judged and left is settled', () => {
    const theirs = recorded('signed');
    const other = new OutcomeSeal([randomBytes(32)], 'staging');
    const seal = theirs.annotations['slsa-ml.dev/seal'] as string;
    assert.equal(classify(tr('True', theirs), { ...opts, seal: other, judged: () => false }), 'judge');
    assert.equal(classify(tr('True', theirs), { ...opts, seal: other, judged: (uid, s) => uid === UID && s === seal }), 'ignore');
    assert.equal(classify(tr('True', { ...theirs, finalizers: ['slsa-ml.dev/provenance'] }), { ...opts, seal: other, judged: () => true }), 'release');
    // Judged is about that very seal: a new one on the same run is judged again.
    assert.equal(classify(tr('True', theirs), { ...opts, seal: other, judged: (_uid, s) => s === 'v2.staging.other' }), 'judge');
    // A running run is held as any other, and judged once it finishes.
    assert.equal(classify(tr('Unknown', theirs), { ...opts, seal: other }), 'hold');
  });

  it('overrules foreign slsa-ml.dev/ values on a finished run it has nothing to attest for', () => {
    const forged = { labels: { 'slsa-ml.dev/provenance': 'signed' }, results: [{ name: 'accuracy' }] };
    assert.equal(classify(tr('True', forged), opts), 'overrule');
    assert.equal(classify(tr('False', { annotations: { 'slsa-ml.dev/signed': 'true' } }), opts), 'overrule');
    // While it runs, nothing is decided yet.
    assert.equal(classify(tr('Unknown', { annotations: { 'slsa-ml.dev/signed': 'true' }, finalizers: ['slsa-ml.dev/provenance'] }), opts), 'ignore');
  });

  it('lets a running TaskRun that is being deleted go', () => {
    assert.equal(classify(tr('Unknown', { deleting: true, finalizers: ['slsa-ml.dev/provenance'] }), opts), 'release');
  });
});

describe('deciding what a PipelineRun and its child TaskRuns need', () => {
  const pipelines = { ...opts, pipelineRuns: true };
  const owned = { ownerReferences: [{ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: 'p', uid: 'pr-uid', controller: true }] };
  const child = (status: string | undefined, extra: Extra = {}) => {
    const run = tr(status, extra);
    return { ...run, metadata: { ...run.metadata, ...owned } };
  };
  const pr = (status: string | undefined, extra: { results?: Array<{ name: string }>; finalizers?: string[]; annotations?: Record<string, string>; labels?: Record<string, string> } = {}) => ({
    metadata: { name: 'p', namespace: 'n', uid: UID, ...(extra.finalizers ? { finalizers: extra.finalizers } : {}), ...(extra.annotations ? { annotations: extra.annotations } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
    status: { pipelineSpec: { results: extra.results ?? [] }, ...(status === undefined ? {} : { conditions: [{ type: 'Succeeded', status }] }) },
  });

  it('attests a finished PipelineRun whatever its own results say (its models may be in its children)', () => {
    assert.equal(classify(pr('True'), pipelines, 'PipelineRun'), 'attest');
    assert.equal(classify(pr('False'), pipelines, 'PipelineRun'), 'ignore');
    assert.equal(classify(pr('False'), { ...pipelines, attestFailedRuns: true }, 'PipelineRun'), 'attest');
  });

  it('never attests a TaskRun a PipelineRun controls on its own, and never holds it', () => {
    assert.equal(classify(child('True'), pipelines), 'ignore');
    assert.equal(classify(child('Unknown'), pipelines), 'ignore');
    // With PipelineRuns off, every TaskRun is attested on its own, as before.
    assert.equal(classify(child('True'), opts), 'attest');
    // An ownerReference that is not the controller, or not a PipelineRun, changes nothing.
    const notController = { ...tr('True'), metadata: { ...tr('True').metadata, ownerReferences: [{ ...owned.ownerReferences[0], controller: false }] } };
    assert.equal(classify(notController, pipelines), 'attest');
  });

  it('overrules slsa-ml.dev/ values a tenant set on a child TaskRun, and releases an older finalizer of ours', () => {
    assert.equal(classify(child('True', { annotations: { 'slsa-ml.dev/signed': 'true' } }), pipelines), 'overrule');
    assert.equal(classify(child('True', { finalizers: ['slsa-ml.dev/provenance'] }), pipelines), 'release');
  });

  it('holds a running PipelineRun whose results announce a model; otherwise only its children can ask', () => {
    assert.equal(classify(pr('Unknown', { results: [{ name: 'model_ARTIFACT_OUTPUTS' }] }), pipelines, 'PipelineRun'), 'hold');
    assert.equal(classify(pr('Unknown'), pipelines, 'PipelineRun'), 'check-hold');
    assert.equal(classify(pr('Unknown', { finalizers: ['slsa-ml.dev/provenance'] }), pipelines, 'PipelineRun'), 'ignore');
    assert.equal(classify(pr('Unknown'), { ...pipelines, useFinalizer: false }, 'PipelineRun'), 'ignore');
  });

  it('takes a sealed outcome on a PipelineRun as recorded, and a forged one as nothing', () => {
    assert.equal(classify(pr('True', recorded('signed')), pipelines, 'PipelineRun'), 'ignore');
    assert.equal(classify(pr('True', { ...recorded('signed', 'another-uid'), finalizers: ['slsa-ml.dev/provenance'] }), pipelines, 'PipelineRun'), 'judge');
  });
});
