// The operator with `transparency.url`: training runs through real Tekton, every signature recorded
// in a real Rekor v2 log (rekor-tiles, hack/env/rekor.ts) before anything is written, the bundle
// checked by cosign and sigstore-go with only the public key and a trusted root naming the log. And
// the faults, through a relay in front of the log: a log answering 503 for a while, one that never
// answers, and the operator SIGKILLed after the log made the entry but before anything was stored —
// 0 lost, 0 duplicate provenance files, 0 false `signed`.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startRekor, type RekorHandle } from '../../hack/env/rekor.ts';
import { stopGroup } from '../../hack/env/processes.ts';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { cli } from '../support/cli.ts';
import { applyOperatorRbac, generateSigningKeys, startOperator, stopAllOperators, type OperatorProcess, type SigningKeys } from '../support/operator-process.ts';
import { cosignVerifyLogged, sigstoreGoVerify } from '../support/signing-verifiers.ts';
import { tektonNamespace } from '../support/tekton-runs.ts';
import { startTufRepo } from '../support/tuf-repo.ts';
import { finishTrainingRun, gsUri, modelOutput, outcomeOf, sha256, waitForTaskRun } from '../support/training-run.ts';

const env = testEnv();
const admin = env.kubeConfig('admin');
const prefix = uniqueName('operator-tlog');
const BUILDER = 'https://slsa-ml.dev/operator/test';
const dir = mkdtempSync(join(tmpdir(), 'operator-tlog-'));
const bucket = () => env.storageClient().bucket(env.bucket);
const objectName = (uri: string): string => uri.replace(`gs://${env.bucket}/`, '');

type Mode = 'forward' | 'unavailable' | 'hang' | 'kill-after-entry';

/** A relay in front of the log whose behaviour the test switches. */
class LogRelay {
  mode: Mode = 'forward';
  /** Entries the log made through the relay (201 answers), whatever the relay then did. */
  entriesMade = 0;
  /** Called after the log made an entry in mode kill-after-entry, before anything is answered. */
  onEntry: () => void = () => undefined;
  readonly #server: Server;
  readonly #target: URL;

  constructor(target: string) {
    this.#target = new URL(target);
    this.#server = createServer((req, res) => { void this.#handle(req, res); });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  close(): void {
    this.#server.closeAllConnections();
    this.#server.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.mode === 'unavailable') {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":14,"message":"reached max pushback; retry"}');
      return;
    }
    if (this.mode === 'hang') return; // never answers; the operator's deadline must end it
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = await this.#forward(req, Buffer.concat(chunks));
    if (answer.status === 201) this.entriesMade++;
    if (answer.status === 201 && this.mode === 'kill-after-entry') {
      this.onEntry();
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  }

  #forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const out = request({ hostname: '127.0.0.1', port: this.#target.port, path: req.url, method: req.method, headers: { 'content-type': 'application/json' } }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (d: Buffer) => parts.push(d));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(parts) }));
      });
      out.on('error', reject);
      out.end(body);
    });
  }
}

describe('the operator with a transparency log', () => {
  let rekor: RekorHandle;
  let relay: LogRelay;
  let relayURL: string;
  let keys: SigningKeys;

  before(async () => {
    rekor = await startRekor(requireTool(toolPaths().rekorServer, 'rekor'), dir);
    relay = new LogRelay(rekor.url);
    relayURL = await relay.listen();
    await applyOperatorRbac(env);
    keys = generateSigningKeys();
  });

  after(async () => {
    await stopAllOperators();
    relay.close();
    await stopGroup(rekor.pid);
    rmSync(dir, { recursive: true, force: true });
  });

  function operatorWith(extra: Record<string, unknown> = {}): Promise<OperatorProcess> {
    return startOperator(env, {
      allowedPrefixes: [`gs://${env.bucket}/${prefix}/`],
      storage: { gcs: { apiEndpoint: env.gcsEndpoint, userProject: 'slsa-ml-test' } },
      signer: { kind: 'key', keyPath: keys.privateKeyPath },
      builderId: BUILDER,
      leaderElection: { enabled: false },
      transparency: { url: relayURL },
      retry: { initialDelayMs: 300, maxDelayMs: 1000, budgetMs: 60_000 },
      ...extra,
    });
  }

  async function train(ns: string): Promise<{ uri: string; bytes: Buffer }> {
    const uri = gsUri(env, `${prefix}/${ns}/v1/pytorch_model.pth`);
    const bytes = Buffer.from(`weights of ${ns}`);
    await finishTrainingRun(env, ns, 'train', { writes: { [objectName(uri)]: bytes }, results: [modelOutput(uri, sha256(bytes))] });
    return { uri, bytes };
  }

  const decided = (ns: string, timeoutMs = 60_000) => waitForTaskRun(admin, ns, 'train', (t) => outcomeOf(t) !== undefined, timeoutMs);

  async function siblings(uri: string): Promise<string[]> {
    const [files] = await bucket().getFiles({ prefix: objectName(uri) });
    return files.map((f) => f.name).filter((n) => n !== objectName(uri)).sort();
  }

  /** The stored bundle, checked by cosign, sigstore-go and slsa-ml verify against the log's trusted root. */
  async function assertLogged(model: { uri: string; bytes: Buffer }): Promise<{ logIndex: string }> {
    const [bundle] = await bucket().file(`${objectName(model.uri)}.sigstore.json`).download();
    const json = JSON.parse(bundle.toString()) as { verificationMaterial: { tlogEntries?: Array<{ logIndex: string; kindVersion: unknown }> } };
    const entries = json.verificationMaterial.tlogEntries ?? [];
    assert.equal(entries.length, 1, 'one transparency-log entry');
    const bundlePath = join(dir, `${uniqueName('bundle')}.sigstore.json`);
    const modelPath = join(dir, `${uniqueName('model')}.pth`);
    writeFileSync(bundlePath, bundle);
    writeFileSync(modelPath, model.bytes);
    for (const verdict of [
      await cosignVerifyLogged(keys.publicKeyPath, bundlePath, rekor.trustedRootPath, { file: modelPath }),
      await sigstoreGoVerify(keys.publicKeyPath, bundlePath, rekor.trustedRootPath, { file: modelPath }),
    ]) assert.ok(verdict.ok, verdict.output);
    const verified = await cli(['verify', model.uri, '--key', keys.publicKeyPath, '--trusted-root', rekor.trustedRootPath, '--gcs-endpoint', env.gcsEndpoint], { now: new Date() });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    // Protobuf JSON leaves a zero out: the log's first entry has no logIndex.
    return { logIndex: entries[0]?.logIndex ?? '0' };
  }

  it('a run through real Tekton: the provenance and the .sig carry an entry of the log, accepted by cosign, sigstore-go and slsa-ml verify', async () => {
    relay.mode = 'forward';
    const operator = await operatorWith();
    await operator.ready();
    try {
      const ns = await tektonNamespace(env, 'tlog-run');
      const model = await train(ns);
      const tr = await decided(ns);
      assert.equal(outcomeOf(tr), 'true', tr.metadata.annotations?.['slsa-ml.dev/reason']);
      const { logIndex } = await assertLogged(model);
      // Where the entry is, on the run (as Chains' chains.tekton.dev/transparency): the log and the index.
      assert.equal(tr.metadata.annotations?.['slsa-ml.dev/transparency'], `${relayURL}#${logIndex}`);
      const [sig] = await bucket().file(`${objectName(model.uri)}.sig`).download();
      assert.equal((JSON.parse(sig.toString()) as { verificationMaterial: { tlogEntries?: unknown[] } }).verificationMaterial.tlogEntries?.length, 1, 'the .sig is logged too');
    } finally {
      await operator.stop('SIGTERM');
    }
  });

  it('transparency.url public: the operator follows the signing configuration of a TUF repository to the log valid now', async () => {
    relay.mode = 'forward';
    const signingConfig = {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      rekorTlogUrls: [
        { url: 'http://127.0.0.1:9/retired-shard', majorApiVersion: 2, validFor: { start: '2025-01-01T00:00:00Z', end: '2025-07-01T00:00:00Z' } },
        { url: relayURL, majorApiVersion: 2, validFor: { start: new Date(Date.now() - 3_600_000).toISOString() } },
      ],
    };
    const repo = await startTufRepo(join(dir, uniqueName('tuf')), { 'signing_config.v0.2.json': JSON.stringify(signingConfig) });
    const operator = await operatorWith({ transparency: { url: 'public', tufMirrorURL: repo.url, tufRootPath: repo.rootPath } });
    try {
      await operator.ready();
      const ns = await tektonNamespace(env, 'tlog-public');
      const model = await train(ns);
      const tr = await decided(ns);
      assert.equal(outcomeOf(tr), 'true', tr.metadata.annotations?.['slsa-ml.dev/reason']);
      const { logIndex } = await assertLogged(model);
      assert.equal(tr.metadata.annotations?.['slsa-ml.dev/transparency'], `${relayURL}#${logIndex}`);
    } finally {
      await operator.stop('SIGTERM');
      repo.close();
    }
  });

  it('a log answering 503, then back: the run waits in backoff with nothing written, then is signed once', async () => {
    relay.mode = 'unavailable';
    const operator = await operatorWith();
    await operator.ready();
    try {
      const ns = await tektonNamespace(env, 'tlog-503');
      const model = await train(ns);
      await new Promise((r) => setTimeout(r, 2500));
      const held = await waitForTaskRun(admin, ns, 'train', () => true);
      assert.notEqual(outcomeOf(held), 'true', 'no signed outcome while the log refuses');
      assert.deepEqual(await siblings(model.uri), [], 'nothing written while the log refuses');
      relay.mode = 'forward';
      const tr = await decided(ns);
      assert.equal(outcomeOf(tr), 'true', tr.metadata.annotations?.['slsa-ml.dev/reason']);
      assert.deepEqual(await siblings(model.uri), [`${objectName(model.uri)}.intoto.jsonl`, `${objectName(model.uri)}.sig`, `${objectName(model.uri)}.sigstore.json`]);
      await assertLogged(model);
    } finally {
      await operator.stop('SIGTERM');
    }
  });

  it('a log that never answers: each attempt ends at the request deadline, and when the retry budget is spent the run is failed (TLOG_FAILED) and nothing written', async () => {
    relay.mode = 'hang';
    const operator = await operatorWith({ deadlines: { requestSeconds: 1 }, retry: { initialDelayMs: 200, maxDelayMs: 500, budgetMs: 4000 } });
    await operator.ready();
    try {
      const ns = await tektonNamespace(env, 'tlog-hang');
      const model = await train(ns);
      const tr = await decided(ns);
      assert.equal(outcomeOf(tr), 'failed');
      assert.match(tr.metadata.annotations?.['slsa-ml.dev/reason'] ?? '', /^RETRY_BUDGET_EXHAUSTED: .*TLOG_FAILED: the transparency log http:\/\/127\.0\.0\.1:\d+\/api\/v2\/log\/entries did not answer within 1 s/);
      assert.deepEqual(await siblings(model.uri), [], 'nothing written');
    } finally {
      relay.mode = 'forward';
      await operator.stop('SIGTERM');
    }
  });

  it('SIGKILLed after the log made the entry, before anything was stored: the next operator signs again (a second entry), one provenance, signed', async () => {
    relay.mode = 'kill-after-entry';
    const first = await operatorWith();
    await first.ready();
    let killed = false;
    relay.onEntry = () => {
      if (killed) return;
      killed = true;
      first.child.kill('SIGKILL');
    };
    const ns = await tektonNamespace(env, 'tlog-kill');
    const model = await train(ns);
    await first.exited;
    assert.ok(killed, 'killed between the entry and the write');
    const entriesBefore = relay.entriesMade;
    assert.deepEqual(await siblings(model.uri), [], 'the killed operator stored nothing');
    relay.mode = 'forward';
    const second = await operatorWith();
    await second.ready();
    try {
      const tr = await decided(ns);
      assert.equal(outcomeOf(tr), 'true', tr.metadata.annotations?.['slsa-ml.dev/reason']);
      assert.deepEqual(await siblings(model.uri), [`${objectName(model.uri)}.intoto.jsonl`, `${objectName(model.uri)}.sig`, `${objectName(model.uri)}.sigstore.json`], 'exactly one provenance');
      const { logIndex } = await assertLogged(model);
      assert.ok(relay.entriesMade > entriesBefore, 'the second operator made its own entries');
      assert.ok(Number(logIndex) >= entriesBefore, 'the stored bundle carries the new entry, not the orphaned one');
    } finally {
      await second.stop('SIGTERM');
    }
  });
});
