// Key signatures in a real transparency log: rekor-tiles (Rekor v2) built from its Go module and run
// with its POSIX storage (hack/env/rekor.ts), `slsa-ml attest --transparency URL` recording each
// signature before anything is written, and the bundle's entry checked by verifiers written by others
// — cosign (`verify-blob-attestation --bundle --trusted-root`, without --insecure-ignore-tlog),
// sigstore-go (hack/tools/sigstore-go-verify) and @sigstore/verify (inside `slsa-ml verify`) — given
// only the public key and a trusted root naming the local log.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startRekor, type RekorHandle } from '../../hack/env/rekor.ts';
import { stopGroup } from '../../hack/env/processes.ts';
import { requireTool, toolPaths } from '../../hack/env/tools.ts';
import { testEnv, uniqueName } from '../harness/index.ts';
import { BUILDER_ID, cli, taskRunFor, writeKeyPair, type KeyFiles } from '../support/cli.ts';
import { cosignVerifyLogged, modelSigningVerify, sigstoreGoVerify } from '../support/signing-verifiers.ts';
import { startTufRepo } from '../support/tuf-repo.ts';

interface Attested {
  readonly name: string;
  readonly uri: string;
  readonly modelPath: string;
  readonly bundlePath: string;
  readonly bundle: { verificationMaterial: { tlogEntries?: Array<Record<string, unknown>> } };
}

let scratch: string;
let rekor: RekorHandle | undefined;
let key: KeyFiles;
const bucket = () => testEnv().storageClient().bucket(testEnv().bucket);
const gs = (name: string): string => `gs://${testEnv().bucket}/${name}`;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-rekor-'));
  rekor = await startRekor(requireTool(toolPaths().rekorServer, 'rekor'), scratch);
  key = await writeKeyPair(scratch, 'cosign');
});

after(async () => {
  if (rekor) await stopGroup(rekor.pid);
  await rm(scratch, { recursive: true, force: true });
});

function log(): RekorHandle {
  assert.ok(rekor, 'the local Rekor runs');
  return rekor;
}

/** `slsa-ml attest` of a fresh single-file model with `--transparency`; the model and its siblings as stored. */
async function attest(transparency: string, prefix = `${uniqueName('tlog')}/`): Promise<{ code: number; stderr: string; stdout: string; name: string; uri: string; model: Buffer }> {
  const name = `${prefix}${uniqueName('cifar10')}/v3/pytorch_model.pth`;
  const model = randomBytes(10_000);
  await bucket().file(name).save(model, { resumable: false });
  const taskRun = join(scratch, `${uniqueName('taskrun')}.json`);
  await writeFile(taskRun, JSON.stringify(taskRunFor({ modelUri: gs(name) })));
  const run = await cli(['attest', '--taskrun', taskRun, '--key', key.privatePath, '--allowed-prefix', gs(prefix), '--builder-id', BUILDER_ID,
    '--gcs-endpoint', testEnv().gcsEndpoint, '--transparency', transparency]);
  return { ...run, name, uri: gs(name), model };
}

async function attested(): Promise<Attested> {
  const run = await attest(log().url);
  assert.equal(run.code, 0, run.stderr);
  const modelPath = join(scratch, `${uniqueName('model')}.pth`);
  await writeFile(modelPath, run.model);
  const [bytes] = await bucket().file(`${run.name}.sigstore.json`).download();
  const bundlePath = join(scratch, `${uniqueName('bundle')}.sigstore.json`);
  await writeFile(bundlePath, bytes);
  return { name: run.name, uri: run.uri, modelPath, bundlePath, bundle: JSON.parse(bytes.toString()) as Attested['bundle'] };
}

async function siblings(name: string): Promise<string[]> {
  const [files] = await bucket().getFiles({ prefix: name });
  return files.map((f) => f.name).filter((n) => n !== name).sort();
}

async function slsaVerify(uri: string, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cli(['verify', uri, '--key', key.publicPath, '--builder-id', BUILDER_ID, '--gcs-endpoint', testEnv().gcsEndpoint, ...extra]);
}

describe('key signatures in a local Rekor v2 log (rekor-tiles, POSIX storage)', () => {
  it('attest --transparency records the signature and the bundle carries the entry: cosign, sigstore-go and slsa-ml verify accept it with only the key and the trusted root', async () => {
    const a = await attested();
    const [entry] = a.bundle.verificationMaterial.tlogEntries ?? [];
    assert.ok(entry, 'one transparency-log entry in the bundle');
    assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    assert.equal((entry.logId as { keyId: string }).keyId, (log().trustedRoot.tlogs as Array<{ logId: { keyId: string } }>)[0]?.logId.keyId, "the local log's ID");
    assert.match((entry.inclusionProof as { checkpoint: { envelope: string } }).checkpoint.envelope, /^localhost\n\d+\n/);
    const cosign = await cosignVerifyLogged(key.publicPath, a.bundlePath, log().trustedRootPath, { file: a.modelPath });
    assert.ok(cosign.ok, cosign.output);
    const sigstoreGo = await sigstoreGoVerify(key.publicPath, a.bundlePath, log().trustedRootPath, { file: a.modelPath });
    assert.ok(sigstoreGo.ok, sigstoreGo.output);
    const verified = await slsaVerify(a.uri, '--trusted-root', log().trustedRootPath);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /logged in http:\/\/localhost:\d+/);
  });

  it('the model signature (.sig) is logged too, and model_signing still verifies it', async () => {
    const a = await attested();
    const [sig] = await bucket().file(`${a.name}.sig`).download();
    const json = JSON.parse(sig.toString()) as Attested['bundle'];
    assert.equal(json.verificationMaterial.tlogEntries?.length, 1);
    const sigPath = join(scratch, `${uniqueName('model')}.sig`);
    await writeFile(sigPath, sig);
    const verdict = await modelSigningVerify(a.modelPath, sigPath, { kind: 'key', publicKeyPath: key.publicPath });
    assert.ok(verdict.ok, verdict.output);
  });

  it('an entry removed, or taken from another bundle, is refused by slsa-ml verify and cosign; --insecure-ignore-tlog accepts the signature alone', async () => {
    const [a, b] = [await attested(), await attested()];
    const stripped = structuredClone(a.bundle);
    stripped.verificationMaterial.tlogEntries = [];
    const swapped = structuredClone(a.bundle);
    swapped.verificationMaterial.tlogEntries = b.bundle.verificationMaterial.tlogEntries ?? [];
    for (const [label, bundle, code] of [['removed', stripped, 'TLOG_MISSING'], ['from another bundle', swapped, 'TLOG_INVALID']] as const) {
      const bytes = JSON.stringify(bundle);
      await bucket().file(`${a.name}.sigstore.json`).delete();
      await bucket().file(`${a.name}.sigstore.json`).save(bytes, { resumable: false });
      const refused = await slsaVerify(a.uri, '--trusted-root', log().trustedRootPath);
      assert.equal(refused.code, 1, `${label}: ${refused.stdout}`);
      assert.match(refused.stdout + refused.stderr, new RegExp(code), label);
      const path = join(scratch, `${uniqueName('tampered')}.sigstore.json`);
      await writeFile(path, bytes);
      const cosign = await cosignVerifyLogged(key.publicPath, path, log().trustedRootPath, { file: a.modelPath });
      assert.equal(cosign.ok, false, `${label}: cosign accepted it: ${cosign.output}`);
      const ignored = await slsaVerify(a.uri, '--trusted-root', log().trustedRootPath, '--insecure-ignore-tlog');
      assert.equal(ignored.code, 0, `${label}, --insecure-ignore-tlog: ${ignored.stdout}${ignored.stderr}`);
    }
  });

  it('without a trusted root naming a log, slsa-ml verify accepts a logged bundle as before and says the entry was not checked', async () => {
    const a = await attested();
    const verified = await slsaVerify(a.uri);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /transparency-log entry not checked/);
  });

  it('query with the trusted root lists an unlogged signature as unverifiable, saying so, and the logged one as verified', async () => {
    const prefix = `${uniqueName('tlog-query')}/`;
    const logged = await attest(log().url, prefix);
    const unlogged = await attest('off', prefix);
    assert.equal(logged.code + unlogged.code, 0, logged.stderr + unlogged.stderr);
    const run = await cli(['query', '--under', gs(prefix), '--dependency', 'pkg:pypi/torch@>=2', '--key', key.publicPath, '--trusted-root', log().trustedRootPath, '--gcs-endpoint', testEnv().gcsEndpoint, '--json']);
    const answer = JSON.parse(run.stdout) as { verified: number; unverifiable: Array<{ provenance: string; reason: string }> };
    assert.equal(answer.verified, 1, run.stdout);
    assert.equal(answer.unverifiable.length, 1, run.stdout);
    assert.equal(answer.unverifiable[0]?.provenance, `${unlogged.uri}.sigstore.json`);
    assert.match(answer.unverifiable[0]?.reason ?? '', /^signature: no transparency-log entry, and the trusted root names http:\/\/localhost:\d+/);
  });

  it('--transparency public follows the signing configuration of a TUF repository to the Rekor v2 log valid now', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const signingConfig = {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [], oidcUrls: [], tsaUrls: [],
      rekorTlogUrls: [
        { url: 'http://127.0.0.1:9/retired-shard', majorApiVersion: 2, validFor: { start: '2025-01-01T00:00:00Z', end: hourAgo }, operator: 'test' },
        { url: log().url, majorApiVersion: 2, validFor: { start: hourAgo }, operator: 'test' },
        { url: 'http://127.0.0.1:9/rekor-v1', majorApiVersion: 1, validFor: { start: new Date(Date.now() - 60_000).toISOString() }, operator: 'test' },
      ],
      rekorTlogConfig: { selector: 'ANY' }, tsaConfig: { selector: 'ANY' },
    };
    const repo = await startTufRepo(join(scratch, uniqueName('tuf')), { 'signing_config.v0.2.json': JSON.stringify(signingConfig) });
    try {
      const prefix = `${uniqueName('tlog-public')}/`;
      const name = `${prefix}model.pth`;
      const model = randomBytes(5000);
      await bucket().file(name).save(model, { resumable: false });
      const taskRun = join(scratch, `${uniqueName('taskrun')}.json`);
      await writeFile(taskRun, JSON.stringify(taskRunFor({ modelUri: gs(name) })));
      const run = await cli(['attest', '--taskrun', taskRun, '--key', key.privatePath, '--allowed-prefix', gs(prefix), '--builder-id', BUILDER_ID,
        '--gcs-endpoint', testEnv().gcsEndpoint, '--transparency', 'public', '--tuf-mirror', repo.url, '--tuf-root', repo.rootPath]);
      assert.equal(run.code, 0, run.stderr);
      const verified = await slsaVerify(gs(name), '--trusted-root', log().trustedRootPath);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /logged in http:\/\/localhost:\d+/);
    } finally {
      repo.close();
    }
  });

  it('a log that cannot be reached, or answers 503 (after retries), fails attest with the reason and writes nothing', async () => {
    const closed = await listening((_, res) => { res.destroy(); });
    let answered503 = 0;
    const unavailable = await listening((_, res) => {
      answered503++;
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"code":14,"message":"reached max pushback; retry"}');
    });
    try {
      for (const [label, server, reason] of [['connection dropped', closed, /could not be reached/], ['503', unavailable, /answered 503: .*max pushback/]] as const) {
        const run = await attest(`http://127.0.0.1:${port(server)}`);
        // Like an unreachable KMS or Fulcio: a service failure is exit 2 with one line (docs/cli.md#exit-codes).
        assert.equal(run.code, 2, `${label}: ${run.stdout}${run.stderr}`);
        assert.match(run.stderr, /^slsa-ml attest: the transparency log http:\/\/127\.0\.0\.1:\d+\/api\/v2\/log\/entries /, label);
        assert.match(run.stderr, reason, label);
        assert.deepEqual(await siblings(run.name), [], `${label}: nothing written beside the model`);
      }
      assert.equal(answered503, 3, 'a 503 is retried: three attempts');
    } finally {
      closed.close();
      unavailable.close();
    }
  });
});

async function listening(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function port(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

