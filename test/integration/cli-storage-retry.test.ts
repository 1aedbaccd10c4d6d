// slsa-ml over a Cloud Storage that fails for a while: fake-gcs-server behind a relay that answers
// 503 in its place. A command retries (the operator does not: it has its own backoff), so a short
// outage changes no answer; one that lasts is reported as the storage being unavailable, never as
// provenance that failed verification.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { digestStorage } from '../../src/digest/index.ts';
import { createStorage, type Storage } from '../../src/storage/index.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli, signRun, storeSiblings, writeKeyPair, type KeyFiles } from '../support/cli.ts';
import { startHttpFaultRelay, type Fault, type HttpFaultRelay } from '../support/http-fault-relay.ts';

let scratch: string;
let key: KeyFiles;
let storage: Storage;
let under: string;
let model: string;
const relays: HttpFaultRelay[] = [];

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-retry-'));
  key = await writeKeyPair(scratch, 'cosign');
  storage = createStorage({ gcs: { apiEndpoint: testEnv().gcsEndpoint } });
  under = `gs://${testEnv().bucket}/${uniqueName('retry')}/`;
  model = `${under}vision/resnet/model.pth`;
  await storage.createOnly(model, randomBytes(5000), 'application/octet-stream');
  await storeSiblings(storage, model, await signRun({ modelUri: model, frameworks: ['pkg:pypi/torch@2.8.0'] }, await digestStorage(storage, model), { privatePem: key.privatePem }));
});
after(async () => {
  await Promise.all(relays.map((r) => r.close()));
  await rm(scratch, { recursive: true, force: true });
});

async function relay(fault: Fault): Promise<HttpFaultRelay> {
  const r = await startHttpFaultRelay(testEnv().gcsEndpoint, fault);
  relays.push(r);
  return r;
}

function query(endpoint: string, env: Record<string, string> = {}) {
  return cli(['query', '--under', under, '--key', key.publicPath, '--dependency', 'pkg:pypi/torch@<2.6.0', '--gcs-endpoint', endpoint, '--json'], { env });
}

describe('when Cloud Storage answers 503 for a while', () => {
  it('query still verifies the model and clears it (exit 0)', async () => {
    const r = await relay((_req, n) => (n <= 2 ? 503 : undefined));
    const run = await query(r.endpoint);
    assert.equal(run.code, 0, run.stderr);
    const answer = JSON.parse(run.stdout) as { scanned: number; verified: number; unverifiable: unknown[] };
    assert.deepEqual([answer.scanned, answer.verified, answer.unverifiable.length], [1, 1, 0]);
    assert.equal(r.faulted(), 2);
  });

  it('verify still verifies the model (exit 0)', async () => {
    const r = await relay((_req, n) => (n <= 2 ? 503 : undefined));
    const run = await cli(['verify', model, '--key', key.publicPath, '--gcs-endpoint', r.endpoint, '--json']);
    assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
    assert.equal(r.faulted(), 2);
  });
});

describe('when Cloud Storage keeps answering 503', () => {
  it('query ends with an error saying the storage was unavailable (exit 2), not with unverifiable provenance', async () => {
    // Listings and metadata pass, every download fails: what query used to list as unverifiable
    // provenance ("cannot read"), exit 1, as if a person had to look at a forged file.
    const r = await relay((req) => (req.url?.includes('alt=media') ? 503 : undefined));
    const run = await query(r.endpoint, { SLSA_ML_GCS_RETRY_SECONDS: '2' });
    assert.equal(run.code, 2, run.stdout);
    assert.equal(run.stdout, '', 'no answer is printed');
    assert.match(run.stderr, /^slsa-ml query: --under gs:\/\/\S+: storage unavailable, no answer: gs:\/\/\S+: HTTP 503: injected by the test relay \(gave up after \d+ attempts in [\d.]+ s\)\n$/);
    assert.ok(r.faulted() >= 2, 'the read was retried');
  });

  it('verify and query --check-digests end with that error too when the model cannot be read (exit 2), not with a failed subject check', async () => {
    // The provenance reads; the model's own bytes never do.
    const name = encodeURIComponent(model.slice(`gs://${testEnv().bucket}/`.length));
    const r = await relay((req) => (req.url?.startsWith(`/storage/v1/b/${testEnv().bucket}/o/${name}?alt=media`) ? 503 : undefined));
    const env = { SLSA_ML_GCS_RETRY_SECONDS: '1' };
    const run = await cli(['verify', model, '--key', key.publicPath, '--gcs-endpoint', r.endpoint, '--json'], { env });
    assert.equal(run.code, 2, run.stdout);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^slsa-ml verify: gs:\/\/\S+model\.pth: storage unavailable, no answer: .*HTTP 503: injected by the test relay/);
    const measured = await cli(['query', '--under', under, '--key', key.publicPath, '--dependency', 'pkg:pypi/torch', '--check-digests', '--gcs-endpoint', r.endpoint], { env });
    assert.equal(measured.code, 2, measured.stdout);
    assert.match(measured.stderr, /^slsa-ml query: --under \S+: storage unavailable, no answer: .*HTTP 503: injected by the test relay/);
  });
});

describe('when a create-only write reaches the store but its answer is lost', () => {
  it('a retrying client recognises its own first copy instead of calling it ALREADY_EXISTS', async () => {
    let posts = 0;
    const r = await relay((req) => (req.method === 'POST' && ++posts === 1 ? { after: 503 } : undefined));
    const through = createStorage({ gcs: { apiEndpoint: r.endpoint }, retry: { budgetMs: 5000 } });
    const uri = `${under}attest/model.pth.sigstore.json`;
    const data = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
    const created = await through.createOnly(uri, data, 'application/json');
    assert.equal(posts, 2, 'the write was sent again, and met its own first copy (412)');
    assert.equal(created.md5, (await testEnv().storageClient().bucket(testEnv().bucket).file(uri.slice(`gs://${testEnv().bucket}/`.length)).getMetadata())[0].md5Hash);
    assert.deepEqual(await storage.read(uri, 1000), data);
    await assert.rejects(through.createOnly(uri, Buffer.from('{"other":true}'), 'application/json'), (e) => (e as { code?: string }).code === 'ALREADY_EXISTS');
  });
});
