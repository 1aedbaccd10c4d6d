// Run the way platform teams run it: two installations (each with its own key, seal and builder
// id) watching the same namespace, and a signing key rotated under running history. Before seals
// named their installation and foreign outcomes were judged, the two installations relabelled each
// other's runs several times a second for ever, and a rotated key relabelled every old run failed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi, Watch } from '@kubernetes/client-node';
import { testEnv, uniqueName } from '../harness/index.ts';
import { prepareBurst, stopBursts, waitAllDecided, type BurstRun } from '../support/burst.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { tektonNamespace } from '../support/tekton-runs.ts';
import { verifyProvenance } from '../../src/verify/index.ts';
import { sha256 } from '../support/training-run.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const prefix = uniqueName('installations');
const repo = join(import.meta.dirname, '..', '..');

interface RunMeta { metadata: { name: string; uid: string; resourceVersion: string; annotations?: Record<string, string>; labels?: Record<string, string> } }

function operatorConfig(keys: SigningKeys, builder: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
    storage: { gcs: { apiEndpoint: env.gcsEndpoint } },
    signer: { kind: 'key', keyPath: keys.privateKeyPath },
    builderId: `https://slsa-ml.dev/operator/${builder}`,
    leaderElection: { enabled: false },
    retry: { initialDelayMs: 200, maxDelayMs: 2000, budgetMs: 120_000 },
    ...extra,
  };
}

async function listRuns(ns: string): Promise<RunMeta[]> {
  const api = admin.makeApiClient(CustomObjectsApi);
  return ((await api.listNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural: 'taskruns', namespace: ns })) as { items: RunMeta[] }).items;
}

/** Every change of a run's outcome (its slsa-ml.dev/signed value or its seal), as the API server reports it. */
function watchOutcomeChanges(ns: string): { changes: Map<string, string[]>; stop: () => Promise<void> } {
  const changes = new Map<string, string[]>();
  const last = new Map<string, string>();
  const watching = new Watch(admin).watch(`/apis/tekton.dev/v1/namespaces/${ns}/taskruns`, {}, (_type, obj: RunMeta) => {
    const a = obj.metadata.annotations ?? {};
    const now = `${a['slsa-ml.dev/signed'] ?? '-'} ${a['slsa-ml.dev/seal'] ?? '-'}`;
    if (last.get(obj.metadata.name) === now) return;
    last.set(obj.metadata.name, now);
    if (now !== '- -') changes.set(obj.metadata.name, [...(changes.get(obj.metadata.name) ?? []), now]);
  }, () => undefined);
  return { changes, stop: async () => { (await watching).abort(); } };
}

async function metric(operator: OperatorProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** The provenance beside each model verifies with one of `keys` and attests its own run; returns which key signed each. */
async function signers(ns: string, runs: readonly BurstRun[], keys: readonly SigningKeys[]): Promise<number[]> {
  const bucket = env.storageClient().bucket(env.bucket);
  const uids = new Map((await listRuns(ns)).map((r) => [r.metadata.name, r.metadata.uid]));
  const result: number[] = [];
  for (const run of runs) {
    const base = run.modelUri.replace(`gs://${env.bucket}/`, '');
    const [siblings] = await bucket.getFiles({ prefix: `${base}.` });
    assert.deepEqual(siblings.map((f) => f.name).sort(), [`${base}.intoto.jsonl`, `${base}.sig`, `${base}.sigstore.json`], `${run.name}: one provenance, never two`);
    const bundle = (await bucket.file(`${base}.sigstore.json`).download())[0].toString();
    const model = (await bucket.file(base).download())[0];
    let signer = -1;
    for (const [i, key] of keys.entries()) {
      const verdict = await verifyProvenance({ provenance: bundle, trust: { kind: 'key', publicKeyPem: key.publicKeyPem }, artifact: { sha256: sha256(model) } });
      if (verdict.ok) signer = i;
    }
    assert.notEqual(signer, -1, `${run.name}: its provenance verifies with none of the keys`);
    const statement = JSON.parse(Buffer.from((JSON.parse(bundle) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString()) as { predicate: { runDetails: { metadata: { invocationId: string } } } };
    assert.equal(statement.predicate.runDetails.metadata.invocationId, uids.get(run.name), run.name);
    result.push(signer);
  }
  return result;
}

describe('several installations and key rotation', () => {
  before(async () => {
    await applyOperatorRbac(env);
  });
  after(async () => {
    await stopBursts();
    await stopAllOperators();
  });

  it('two installations on one namespace: a bounded number of writes per TaskRun, then outcomes that stay put, and a warning', async () => {
    const ns = await tektonNamespace(env, 'two-installations');
    const [prodKeys, stagingKeys] = [generateSigningKeys(), generateSigningKeys()];
    const { runs, finish } = await prepareBurst(env, admin, { namespace: ns, prefix, count: 8 });
    const prod = await startOperator(env, operatorConfig(prodKeys, 'prod', { namespaces: [ns] }));
    const staging = await startOperator(env, operatorConfig(stagingKeys, 'staging', { namespaces: [ns] }));
    await Promise.all([prod.ready(), staging.ready()]);
    const watched = watchOutcomeChanges(ns);
    try {
      await finish();
      const decided = await waitAllDecided(admin, ns, runs, 90_000);
      assert.deepEqual(decided.pending, [], prod.output().slice(-2000));
      // Long enough for a loop to show itself many times over (it made ~9 writes a second per run).
      await sleep(15_000);
      const settled = new Map((await listRuns(ns)).map((r) => [r.metadata.name, r.metadata.resourceVersion]));
      await sleep(5_000);
      for (const run of (await listRuns(ns)).filter((r) => settled.has(r.metadata.name))) {
        assert.equal(run.metadata.resourceVersion, settled.get(run.metadata.name), `${run.metadata.name} still changes: ${JSON.stringify(watched.changes.get(run.metadata.name))}`);
      }
      for (const run of runs) {
        const seen = watched.changes.get(run.name) ?? [];
        // Each installation records at most once and overrules at most once.
        assert.ok(seen.length >= 1 && seen.length <= 4, `${run.name}: ${seen.length} outcome changes: ${JSON.stringify(seen)}`);
      }
    } finally {
      await watched.stop();
    }
    // Whichever installation wrote first owns the provenance beside the model; nothing was written twice.
    await signers(ns, runs, [prodKeys, stagingKeys]);
    const judged = (await metric(prod, 'slsa_ml_foreign_outcomes_total')) + (await metric(staging, 'slsa_ml_foreign_outcomes_total'));
    assert.ok(judged >= runs.length, `foreign outcomes counted: ${judged}`);
    assert.match(prod.output() + staging.output(), /outcomes sealed by another installation/);
    const events = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
    assert.ok(events.items.some((e) => e.reason === 'ForeignOutcome' && /outcome sealed by installation b[0-9a-f]{10}/.test(e.message ?? '')), 'a Warning Event names the other installation');
    await Promise.all([prod.stop(), staging.stop()]);
  });

  it('rotating the signing key keeps old runs signed: with the previous public key, and with the seal key kept, nothing is even rewritten', async () => {
    const ns = await tektonNamespace(env, 'rotation');
    const [k1, k2, k3] = [generateSigningKeys(), generateSigningKeys(), generateSigningKeys()];
    const first = await prepareBurst(env, admin, { namespace: ns, prefix, count: 4, namePrefix: 'old' });
    let operator = await startOperator(env, operatorConfig(k1, 'prod', { namespaces: [ns] }));
    await operator.ready();
    await first.finish();
    assert.deepEqual((await waitAllDecided(admin, ns, first.runs, 60_000)).signed.length, 4, operator.output().slice(-2000));
    await operator.stop();

    // Rotation 1, the short way: a new key, the old public key given as previous. The seal was
    // derived from the old key, so each old outcome is checked once against our own provenance and sealed again.
    operator = await startOperator(env, operatorConfig(k2, 'prod', { namespaces: [ns], previousPublicKeyPaths: [k1.publicKeyPath] }));
    await operator.ready();
    const second = await prepareBurst(env, admin, { namespace: ns, prefix, count: 2, namePrefix: 'new' });
    await second.finish();
    const after2 = await waitAllDecided(admin, ns, [...first.runs, ...second.runs], 60_000);
    assert.deepEqual({ failed: after2.failed, pending: after2.pending }, { failed: [], pending: [] }, operator.output().slice(-3000));
    await waitFor(async () => (await metric(operator, 'slsa_ml_foreign_outcomes_total{decision="resealed"}')) === 4, 'the four old outcomes sealed again');
    assert.deepEqual(await signers(ns, [...first.runs, ...second.runs], [k1, k2]), [0, 0, 0, 0, 1, 1], 'old models keep their old-key provenance; new ones get the new key');
    await operator.stop();

    // Rotation 2, the documented way: the seal key the operator derived from k2 is kept as seal.keyPath
    // (slsa-ml seal-key), so a new signing key leaves every recorded outcome as it is.
    const sealLine = execFileSync(process.execPath, [join(repo, 'operator', 'bin.ts'), 'seal-key', '--key', k2.privateKeyPath], { encoding: 'utf8' });
    assert.match(sealLine, /^base64:[A-Za-z0-9+/]{43}=\n$/);
    const sealPath = join(k3.dir, 'seal.key');
    writeFileSync(sealPath, sealLine, { mode: 0o600 });
    const before3 = new Map((await listRuns(ns)).map((r) => [r.metadata.name, r.metadata.resourceVersion]));
    operator = await startOperator(env, operatorConfig(k3, 'prod', { namespaces: [ns], seal: { keyPath: sealPath }, previousPublicKeyPaths: [k1.publicKeyPath, k2.publicKeyPath] }));
    await operator.ready();
    const third = await prepareBurst(env, admin, { namespace: ns, prefix, count: 1, namePrefix: 'newest' });
    await third.finish();
    const after3 = await waitAllDecided(admin, ns, [...first.runs, ...second.runs, ...third.runs], 60_000);
    assert.deepEqual({ failed: after3.failed, pending: after3.pending }, { failed: [], pending: [] }, operator.output().slice(-3000));
    // Once the queue is empty, every old run has been looked at: none was rewritten.
    await waitFor(async () => (await metric(operator, 'slsa_ml_queue_depth')) === 0 && (await metric(operator, 'slsa_ml_attempts_in_flight')) === 0, 'an idle queue');
    for (const run of (await listRuns(ns)).filter((r) => before3.has(r.metadata.name))) {
      assert.equal(run.metadata.resourceVersion, before3.get(run.metadata.name), `${run.metadata.name} was rewritten`);
    }
    assert.equal(await metric(operator, 'slsa_ml_foreign_outcomes_total'), 0);
    assert.deepEqual(await signers(ns, third.runs, [k3]), [0]);
    await operator.stop();
  });
});

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting: ${what}`);
    await sleep(250);
  }
}
