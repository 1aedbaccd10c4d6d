// slsa-ml pull on local models (paths and file:// URIs): a verified model lands in DEST with the
// bytes that were hashed; every refusal exits non-zero, leaves DEST as it was, and writes one line
// naming the check to stderr and to the termination message file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { runCli } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { Staging } from '../../src/cli/pull/staging.ts';
import { DigestError, digestLocalPath, digestStorage } from '../../src/digest/index.ts';
import { manifestOf, serializeModelSigningStatement, signModelSigningPayload } from '../../src/model-signing/index.ts';
import { createSigner } from '../../src/signing/index.ts';
import { createStorage, type Storage } from '../../src/storage/index.ts';
import { BUILDER_ID, NOW, cli, signRun, storeSiblings, writeKeyPair, type KeyFiles, type RunFacts } from '../support/cli.ts';

const storage = createStorage();
let root: string;
let key: KeyFiles;
let otherKey: KeyFiles;
let counter = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-pull-'));
  key = await writeKeyPair(root, 'cosign');
  otherKey = await writeKeyPair(root, 'other');
});
after(() => rm(root, { recursive: true, force: true }));

interface Model {
  readonly path: string;
  readonly uri: string;
  readonly files: Record<string, Buffer>;
}

const SHARDS = 6;

async function newDir(hint: string): Promise<string> {
  const dir = join(root, `${hint}-${counter++}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

async function fileModel(facts: Partial<RunFacts> = {}, privatePem = key.privatePem): Promise<Model> {
  const path = join(await newDir('file'), 'pytorch_model.pth');
  const bytes = randomBytes(300_000);
  await writeFile(path, bytes);
  const uri = pathToFileURL(path).href;
  await storeSiblings(storage, uri, await signRun({ modelUri: uri, ...facts }, await digestLocalPath(path), { privatePem }));
  return { path, uri, files: { 'pytorch_model.pth': bytes } };
}

/** A SavedModel-like directory whose variables are sharded, optionally with a model signature. */
async function directoryModel(options: { modelSignature?: boolean } = {}): Promise<Model> {
  const path = join(await newDir('dir'), 'saved_model');
  const files: Record<string, Buffer> = { 'saved_model.pb': randomBytes(4000), 'fingerprint.pb': randomBytes(20), 'variables/variables.index': randomBytes(300), 'assets/vocab.txt': Buffer.from('a\nb\nc\n') };
  for (let i = 0; i < SHARDS; i++) files[`variables/variables.data-0000${i}-of-0000${SHARDS}`] = randomBytes(40_000 + i * 1000);
  for (const [name, data] of Object.entries(files)) {
    await mkdir(join(path, name, '..'), { recursive: true });
    await writeFile(join(path, name), data);
  }
  const uri = `${pathToFileURL(path).href}/`;
  const measured = await digestLocalPath(path);
  await storeSiblings(storage, uri, await signRun({ modelUri: uri, frameworks: ['pkg:pypi/tensorflow-cpu@2.20.0'] }, measured, { privatePem: key.privatePem }));
  if (options.modelSignature) {
    const sig = await signModelSigningPayload(serializeModelSigningStatement(manifestOf('saved_model', measured)), await createSigner({ kind: 'key', keyPem: key.privatePem }));
    await writeFile(`${path}.sig`, sig);
  }
  return { path, uri, files };
}

interface Pulled {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly dest: string;
  /** The termination message file's content; undefined when none was written. */
  readonly message: string | undefined;
}

async function pull(model: string, flags: readonly string[] = ['--key', key.publicPath], options: { dest?: string; env?: Record<string, string> } = {}): Promise<Pulled> {
  const dest = options.dest ?? join(await newDir('dest'), 'models');
  const messagePath = join(root, `termination-${counter++}`);
  const run = await cli(['pull', model, dest, ...flags], { env: { SLSA_ML_TERMINATION_MESSAGE_PATH: messagePath, ...options.env } });
  return { ...run, dest, message: existsSync(messagePath) ? await readFile(messagePath, 'utf8') : undefined };
}

/** DEST's entries, recursively, hidden ones included. */
async function listing(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true })).sort();
}

async function assertHolds(dest: string, files: Record<string, Buffer>): Promise<void> {
  const onDisk = (await readdir(dest, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dest.length + 1)).sort();
  assert.deepEqual(onDisk, Object.keys(files).sort());
  for (const [name, data] of Object.entries(files)) assert.ok((await readFile(join(dest, name))).equals(data), `${name} holds the model's bytes`);
}

/** A refusal: exit 1, one line on stderr naming the check, the same line as termination message, nothing in DEST. */
async function assertRefused(run: Pulled, check: RegExp, destBefore: readonly string[] = []): Promise<void> {
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^slsa-ml pull: [^\n]+ refused, nothing written to [^\n]+\n$/);
  assert.match(run.stderr, check);
  assert.equal(run.message, run.stderr.trimEnd(), 'the termination message is the stderr line');
  assert.deepEqual(await listing(run.dest), destBefore, 'DEST is as it was');
}

describe('when the model verifies', () => {
  it('a file model lands as DEST/NAME with its bytes, and one line names model, digest, files and builder', async () => {
    const model = await fileModel();
    const run = await pull(model.path);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const { sha256 } = await digestLocalPath(model.path);
    assert.equal(run.stdout, `slsa-ml pull: verified ${model.uri} sha256:${sha256} (1 file, 300000 bytes) built by ${BUILDER_ID}, no model signature; written to ${run.dest}\n`);
    await assertHolds(run.dest, model.files);
    assert.equal(run.message, undefined, 'no termination message on success');
  });

  it('a directory model with several shards, named by file:// URI, lands under DEST with every file', async () => {
    const model = await directoryModel();
    const run = await pull(model.uri, ['--key', key.publicPath, '--concurrency', '3']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^slsa-ml pull: verified ${model.uri} sha256:[0-9a-f]{64} \\(${SHARDS + 4} files, \\d+ bytes\\) built by `));
    await assertHolds(run.dest, model.files);
  });

  it('checks the model signature next to it with the same digest, and says so', async () => {
    const model = await directoryModel({ modelSignature: true });
    const run = await pull(model.path, ['--key', key.publicPath, '--require-model-signature']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /, model signature verified; written to /);
  });

  it('keeps what else DEST holds and replaces an entry with the model\'s name', async () => {
    const model = await fileModel();
    const dest = join(await newDir('dest'), 'models');
    await mkdir(dest);
    await writeFile(join(dest, 'README'), 'kept');
    await writeFile(join(dest, 'pytorch_model.pth'), 'an earlier pull');
    const run = await pull(model.path, undefined, { dest });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await listing(dest), ['README', 'pytorch_model.pth']);
    assert.ok((await readFile(join(dest, 'pytorch_model.pth'))).equals(model.files['pytorch_model.pth'] as Buffer));
  });

  it('removes a staging directory that a killed pull left in DEST', async () => {
    const model = await fileModel();
    const dest = join(await newDir('dest'), 'models');
    await mkdir(join(dest, '.slsa-ml-pull-0123456789ab', 'model'), { recursive: true });
    await writeFile(join(dest, '.slsa-ml-pull-0123456789ab', 'model', 'half.bin'), 'partial');
    const run = await pull(model.path, undefined, { dest });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await listing(dest), ['pytorch_model.pth']);
  });
});

describe('when the model does not verify', () => {
  it('one byte changed after signing: subject fails, DEST stays empty', async () => {
    const model = await fileModel();
    const bytes = await readFile(model.path);
    bytes[1234] = (bytes[1234] ?? 0) ^ 0x01;
    await writeFile(model.path, bytes);
    const dest = join(await newDir('dest'), 'models');
    await mkdir(dest);
    await assertRefused(await pull(model.path, undefined, { dest }), /: subject: no subject has sha256:[0-9a-f]{64} .*\[SUBJECT_MISMATCH\]/);
  });

  it('a shard changed in a directory model: subject fails and the other failed check is named', async () => {
    const model = await directoryModel();
    await writeFile(join(model.path, 'variables', 'variables.data-00002-of-00006'), randomBytes(100));
    await assertRefused(await pull(model.path), /: subject: .*\[SUBJECT_MISMATCH\] \(also failed: files\)$/m);
  });

  it('no provenance: names both places it looked', async () => {
    const model = await fileModel();
    await unlink(`${model.path}.sigstore.json`);
    await unlink(`${model.path}.intoto.jsonl`);
    await assertRefused(await pull(model.path), /: provenance: no provenance next to the model: looked for .*\.sigstore\.json and .*\.intoto\.jsonl \[PROVENANCE_NOT_FOUND\]/);
  });

  it('signed by another key: signature fails with WRONG_KEY', async () => {
    const model = await fileModel({}, otherKey.privatePem);
    await assertRefused(await pull(model.path), /: signature: .*\[WRONG_KEY\]/);
  });

  it('built by another builder: builderId fails', async () => {
    const model = await fileModel();
    await assertRefused(await pull(model.path, ['--key', key.publicPath, '--builder-id', 'https://slsa-ml.dev/operators/prod']), /: builderId: .*\[BUILDER_MISMATCH\]/);
  });

  it('trained with a denied framework version: the deny check names the package', async () => {
    const model = await fileModel({ frameworks: ['pkg:pypi/torch@2.5.1'] });
    await assertRefused(await pull(model.path, ['--key', key.publicPath, '--deny', 'pkg:pypi/torch@<2.6.0']), /: deny pkg:pypi\/torch@<2\.6\.0: trained with pkg:pypi\/torch@2\.5\.1 \[DENIED_DEPENDENCY\]/);
  });

  it('a model signature required but absent: MODEL_SIGNATURE_NOT_FOUND', async () => {
    const model = await directoryModel();
    await assertRefused(await pull(model.path, ['--key', key.publicPath, '--require-model-signature']), /: model signature modelSignature: .*\[MODEL_SIGNATURE_NOT_FOUND\]/);
  });

  it('removes the DEST it made, and leaves alone what an existing DEST held', async () => {
    const model = await fileModel({ frameworks: ['pkg:pypi/torch@2.5.1'] });
    const made = await pull(model.path, ['--key', key.publicPath, '--deny', 'pkg:pypi/torch']);
    assert.equal(made.code, 1);
    assert.equal(existsSync(made.dest), false, 'a DEST the pull created is removed again');
    const dest = join(await newDir('dest'), 'models');
    await mkdir(dest);
    await writeFile(join(dest, 'pytorch_model.pth'), 'an earlier pull');
    await assertRefused(await pull(model.path, ['--key', key.publicPath, '--deny', 'pkg:pypi/torch'], { dest }), /DENIED_DEPENDENCY/, ['pytorch_model.pth']);
    assert.equal(await readFile(join(dest, 'pytorch_model.pth'), 'utf8'), 'an earlier pull');
  });
});

describe('when flags come from the environment (KServe passes only MODEL and DEST)', () => {
  it('SLSA_ML_PULL_KEY, _BUILDER_ID and _DENY (one rule per line) apply', async () => {
    const model = await fileModel({ frameworks: ['pkg:pypi/torch@2.5.1'] });
    const env = { SLSA_ML_PULL_KEY: key.publicPath, SLSA_ML_PULL_BUILDER_ID: BUILDER_ID, SLSA_ML_PULL_DENY: 'pkg:pypi/numpy@<1.0\npkg:pypi/torch@<2.6.0\n' };
    // numpy is not used (its rule passes), torch is: both lines were read as rules.
    await assertRefused(await pull(model.path, [], { env }), /: deny pkg:pypi\/torch@<2\.6\.0: trained with pkg:pypi\/torch@2\.5\.1 \[DENIED_DEPENDENCY\]$/m);
    const passing = await pull(model.path, [], { env: { ...env, SLSA_ML_PULL_DENY: 'pkg:pypi/torch@<2.0' } });
    assert.equal(passing.code, 0, passing.stderr);
  });

  it('SLSA_ML_PULL_KEY may hold the PEM itself, as a ClusterStorageContainer sets it', async () => {
    const model = await fileModel();
    const ours = await pull(model.path, [], { env: { SLSA_ML_PULL_KEY: key.publicPem } });
    assert.equal(ours.code, 0, ours.stderr);
    const theirs = await pull(model.path, [], { env: { SLSA_ML_PULL_KEY: otherKey.publicPem } });
    await assertRefused(theirs, /signature/);
  });

  it('a flag on the command line wins over its variable, and a trust flag over every trust variable', async () => {
    const model = await fileModel();
    const env = { SLSA_ML_PULL_BUILDER_ID: 'https://slsa-ml.dev/operators/prod', SLSA_ML_PULL_KMS: 'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1' };
    const run = await pull(model.path, ['--key', key.publicPath, '--builder-id', BUILDER_ID], { env });
    assert.equal(run.code, 0, run.stderr);
  });

  it('an unknown SLSA_ML_PULL_ variable is a usage error (exit 2), in the termination message too', async () => {
    const model = await fileModel();
    const run = await pull(model.path, [], { env: { SLSA_ML_PULL_KYE: key.publicPath } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^slsa-ml pull: environment variable SLSA_ML_PULL_KYE: no such flag/);
    assert.equal(run.message, run.stderr.split('\n')[0]);
    assert.deepEqual(await listing(run.dest), []);
  });

  it('the billing project keeps its one variable: SLSA_ML_PULL_GCS_USER_PROJECT is refused, as SLSA_ML_PULL_GCS_ENDPOINT is', async () => {
    const model = await fileModel();
    const run = await pull(model.path, ['--key', key.publicPath, '--builder-id', BUILDER_ID], { env: { SLSA_ML_PULL_GCS_USER_PROJECT: 'billing-project' } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /environment variable SLSA_ML_PULL_GCS_USER_PROJECT: no such flag/);
  });

  it('a boolean variable must say true or false', async () => {
    const model = await fileModel();
    const run = await pull(model.path, [], { env: { SLSA_ML_PULL_KEY: key.publicPath, SLSA_ML_PULL_REQUIRE_MODEL_SIGNATURE: 'yes' } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /SLSA_ML_PULL_REQUIRE_MODEL_SIGNATURE="yes": expected true or false/);
  });
});

describe('the termination message', () => {
  it('goes where --termination-message-path says, over $SLSA_ML_TERMINATION_MESSAGE_PATH', async () => {
    const model = await fileModel();
    const named = join(await newDir('term'), 'message');
    const run = await pull(model.path, ['--key', otherKey.publicPath, '--termination-message-path', named]);
    assert.equal(run.code, 1);
    assert.equal(run.message, undefined, 'the variable was overridden');
    assert.equal(await readFile(named, 'utf8'), run.stderr.trimEnd());
  });

  it('reports a usage error (missing DEST) as main prints its first line', async () => {
    const named = join(await newDir('term'), 'message');
    const run = await cli(['pull', 'gs://bucket/model.pth', `--termination-message-path=${named}`]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^slsa-ml pull: missing MODEL or DEST/);
    assert.equal(await readFile(named, 'utf8'), run.stderr.split('\n')[0]);
  });

  it('an input error (no such model) exits 2 and is written too', async () => {
    const run = await pull(join(root, 'no-such-model.pth'));
    assert.equal(run.code, 2);
    assert.match(run.message ?? '', /^slsa-ml pull: model .*no-such-model\.pth: no such file or directory$/);
  });

  it('is skipped without a word when the default path does not exist', { skip: existsSync('/dev/termination-log') && 'runs inside a container that has one' }, async () => {
    const model = await fileModel({}, otherKey.privatePem);
    const run = await cli(['pull', model.path, join(await newDir('dest'), 'models'), '--key', key.publicPath]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.split('\n').length, 2, 'one line only');
  });

  it('an explicit path that cannot be written is reported after the line', async () => {
    const model = await fileModel({}, otherKey.privatePem);
    const run = await pull(model.path, ['--key', key.publicPath, '--termination-message-path', join(root, 'missing-dir', 'message')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\nslsa-ml pull: cannot write the termination message to .*missing-dir\/message: no such file or directory\n$/);
  });
});

describe('when SIGTERM arrives during a pull', () => {
  it('stops, removes the staging directory, and fails naming the signal', async () => {
    const model = await directoryModel();
    const dest = join(await newDir('dest'), 'models');
    const messagePath = join(root, `termination-${counter++}`);
    const signals = new EventEmitter();
    // The signal arrives as soon as the pull listens for it: before and during the download.
    signals.on('newListener', (name) => { if (name === 'SIGTERM') setImmediate(() => signals.emit('SIGTERM')); });
    let stderr = '';
    const io: CliIo = {
      stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) },
      env: { SLSA_ML_TERMINATION_MESSAGE_PATH: messagePath }, cwd: root, now: () => NOW, signals,
    };
    const code = await runCli(['pull', model.path, dest, '--key', key.publicPath], io);
    assert.equal(code, 1);
    assert.match(stderr, /: interrupted: received SIGTERM \[INTERRUPTED\]\n$/);
    assert.equal(await readFile(messagePath, 'utf8'), stderr.trimEnd());
    assert.equal(existsSync(dest), false);
    assert.equal(signals.listenerCount('SIGTERM'), 0, 'the handler is gone once the pull ends');
  });
});

describe('when DEST cannot be used', () => {
  it('a file: exit 2 naming DEST', async () => {
    const model = await fileModel();
    const dest = join(await newDir('dest'), 'file');
    await writeFile(dest, 'x');
    const run = await pull(model.path, undefined, { dest });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^slsa-ml pull: DEST .*\/file: not a directory\n$/);
  });

  it('a URI, or a directory inside the local model: usage errors', async () => {
    const model = await directoryModel();
    assert.match((await pull(model.path, undefined, { dest: 'gs://bucket/models/' })).stderr, /DEST gs:\/\/bucket\/models\/: must be a local directory/);
    assert.match((await pull(model.path, undefined, { dest: join(model.path, 'out') })).stderr, /DEST .*: inside the model/);
  });
});

// The seam pull is built on: digestStorage with copyTo writes each object as it hashes it.
describe('digestStorage with copyTo', () => {
  /** FileStorage that counts opens per object and how many reads are in flight. */
  function countingStorage(): { storage: Storage; opens: Map<string, number>; maxInFlight: () => number } {
    const opens = new Map<string, number>();
    let inFlight = 0;
    let max = 0;
    const counted: Storage = {
      list: (u) => storage.list(u), stat: (u) => storage.stat(u), statAll: (u) => storage.statAll(u), read: (u, m) => storage.read(u, m),
      createOnly: (u, d, c) => storage.createOnly(u, d, c),
      async openRead(uri) {
        opens.set(uri, (opens.get(uri) ?? 0) + 1);
        inFlight += 1;
        max = Math.max(max, inFlight);
        const stream = await storage.openRead(uri);
        // Slow enough that lanes overlap.
        const slowed = Readable.from((async function* () { for await (const chunk of stream) { await new Promise((r) => setTimeout(r, 2)); yield chunk as Buffer; } })());
        slowed.on('close', () => { inFlight -= 1; });
        return slowed;
      },
    };
    return { storage: counted, opens, maxInFlight: () => max };
  }

  it('reads each object once, writes exactly the bytes it hashed, and keeps at most `concurrency` reads in flight', async () => {
    const model = await directoryModel();
    const staging = await Staging.open(join(await newDir('dest'), 'models'));
    const counting = countingStorage();
    const measured = await digestStorage(counting.storage, model.uri, { concurrency: 3, copyTo: staging.sink });
    assert.deepEqual([...counting.opens.values()], Array.from({ length: SHARDS + 4 }, () => 1));
    assert.ok(counting.maxInFlight() <= 3 && counting.maxInFlight() > 1, `in flight: ${counting.maxInFlight()}`);
    assert.equal(measured.sha256, (await digestLocalPath(model.path)).sha256);
    await staging.commit();
    await staging.discard();
    await assertHolds(staging.dest, model.files);
  });

  it('an abort mid-copy rejects, and discard() leaves DEST empty', async () => {
    const model = await directoryModel();
    const dest = join(await newDir('dest'), 'models');
    await mkdir(dest);
    const staging = await Staging.open(dest);
    const stop = new AbortController();
    const sink = { open: async (path: string) => {
      const target = await staging.sink.open(path);
      return { write: async (chunk: Uint8Array) => { await target.write(chunk); stop.abort(); }, close: () => target.close() };
    } };
    await assert.rejects(digestStorage(storage, model.uri, { concurrency: 2, copyTo: sink, signal: stop.signal }), (e: unknown) => e instanceof DigestError && e.code === 'ABORTED');
    await staging.discard();
    assert.deepEqual(await listing(dest), []);
  });
});
