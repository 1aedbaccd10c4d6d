// verify --policy and --vsa on local models, with summaries made by the real libraries as the
// operator makes them: a summary that must not be trusted fails with exit 1 and one named check;
// a policy file is read as the flags are; `slsa-ml policy` prints its digest.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { digestLocalPath } from '../../src/digest/index.ts';
import { summaryLocation } from '../../src/layout/index.ts';
import { parsePolicy, type PolicyDocument } from '../../src/policy/index.ts';
import { createSigner } from '../../src/signing/index.ts';
import { createStorage } from '../../src/storage/index.ts';
import { buildSummary, signSummary } from '../../src/vsa/index.ts';
import { NOW, cli, failedChecks, signRun, storeSiblings, writeKeyPair, type KeyFiles, type RunFacts } from '../support/cli.ts';

const storage = createStorage();
const VERIFIER = 'https://slsa-ml.dev/operator/test#verifier';
const POLICY_YAML = '# serving\nname: https://acme.example/policies/serving\nnamespace: team-vision\ndeny: [pkg:pypi/torch@<2.6.0]\n';
let root: string;
let platform: KeyFiles;
let other: KeyFiles;
let policyPath: string;
let policy: PolicyDocument;
let otherPolicyPath: string;
let otherPolicy: PolicyDocument;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'slsa-ml-cli-vsa-'));
  platform = await writeKeyPair(root, 'platform');
  other = await writeKeyPair(root, 'other');
  policyPath = join(root, 'serving.yaml');
  await writeFile(policyPath, POLICY_YAML);
  policy = parsePolicy(POLICY_YAML, policyPath);
  otherPolicyPath = join(root, 'other.yaml');
  await writeFile(otherPolicyPath, 'max-age: 30d\n');
  otherPolicy = parsePolicy('max-age: 30d\n', otherPolicyPath);
});
after(() => rm(root, { recursive: true, force: true }));

interface Model {
  readonly path: string;
  readonly uri: string;
  readonly sha256: string;
}

async function fileModel(facts: Partial<RunFacts> = {}): Promise<Model> {
  const dir = await mkdtemp(join(root, 'model-'));
  const path = join(dir, 'pytorch_model.pth');
  await writeFile(path, randomBytes(20_000));
  const uri = pathToFileURL(path).href;
  const measured = await digestLocalPath(path);
  await storeSiblings(storage, uri, await signRun({ modelUri: uri, namespace: 'team-vision', ...facts }, measured, { privatePem: platform.privatePem }));
  return { path, uri, sha256: measured.sha256 };
}

interface SummaryOptions {
  readonly key?: KeyFiles;
  readonly policy?: PolicyDocument;
  readonly passed?: boolean;
  readonly about?: Model;
  readonly verifierId?: string;
  readonly at?: Date;
}

/** The summary the operator would write for `model` (or, with `about`, for another model), stored beside `model`. */
async function summarize(model: Model, options: SummaryOptions = {}): Promise<string> {
  const about = options.about ?? model;
  const usedPolicy = options.policy ?? policy;
  const statement = buildSummary({
    verifierId: options.verifierId ?? VERIFIER, verifierVersion: { 'slsa-ml': '0.2.0' }, timeVerified: options.at ?? new Date('2026-01-15T11:00:00Z'),
    modelUri: about.uri, sha256: about.sha256, policy: { uri: usedPolicy.name ?? 'p', digest: usedPolicy.digest },
    provenance: { uri: `${about.uri}.sigstore.json`, sha256: createHash('sha256').update(await readFile(`${about.path}.sigstore.json`)).digest('hex') },
    passed: options.passed ?? true, levels: ['SLSA_BUILD_LEVEL_3'],
  });
  const content = await signSummary(statement, await createSigner({ kind: 'key', keyPem: (options.key ?? platform).privatePem }));
  const uri = summaryLocation(model.uri, usedPolicy.digest);
  await writeFile(new URL(uri), content);
  return uri;
}

const vsa = (model: Model, ...flags: string[]) => cli(['verify', model.path, '--key', platform.publicPath, '--policy', policyPath, '--vsa', ...flags]);

function refusedWith(run: { code: number; stdout: string }, check: string, code: string): void {
  assert.equal(run.code, 1, run.stdout);
  assert.deepEqual(failedChecks(run.stdout), { [check]: code });
}

describe('verify --vsa, when the summary is the operator\'s for this model and policy', () => {
  it('verifies (exit 0): each check, who verified and when, the provenance it covers, the model measured', async () => {
    const model = await fileModel();
    const uri = await summarize(model);
    const run = await vsa(model);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`^model {7}${model.uri}\nsummary {5}${uri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\npolicy {6}https://acme.example/policies/serving \\(sha256:${policy.digest}\\)\n`));
    for (const check of ['signature', 'predicateType', 'resourceUri', 'policy', 'verificationResult', 'subject']) assert.match(run.stdout, new RegExp(`PASS {2}${check}`));
    assert.match(run.stdout, /verified {4}2026-01-15T11:00:00Z: PASSED SLSA_BUILD_LEVEL_3\n/);
    assert.match(run.stdout, new RegExp(`provenance {2}${model.uri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.sigstore\\.json \\(sha256:[0-9a-f]{64}\\)`));
    assert.match(run.stdout, /digest {6}sha256:[0-9a-f]{64}, measured from the model's bytes now\nVERIFIED\n$/);
    assert.equal(run.stderr, '');
  });

  it('with --no-download does not read the model, and says so; a model replaced since is then not noticed', async () => {
    const model = await fileModel();
    await summarize(model);
    await writeFile(model.path, 'replaced after it was verified');
    const trusting = await vsa(model, '--no-download');
    assert.equal(trusting.code, 0, trusting.stdout);
    assert.match(trusting.stdout, /taken from the summary: the model was not read \(--no-download\)/);
    refusedWith(await vsa(model, '--json'), 'subject', 'SUBJECT_MISMATCH');
  });

  it('--json gives the verdict, what the summary says, and whether the model was read', async () => {
    const model = await fileModel();
    await summarize(model);
    const run = await vsa(model, '--json', '--no-download', '--verifier-id', VERIFIER, '--max-age', '1d');
    assert.equal(run.code, 0, run.stdout);
    const verdict = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(verdict.verified, true);
    assert.equal(verdict.modelRead, false);
    assert.deepEqual(verdict.policy, { name: 'https://acme.example/policies/serving', digest: { sha256: policy.digest } });
    assert.equal(verdict.verifierId, VERIFIER);
    assert.equal(verdict.verificationResult, 'PASSED');
    assert.deepEqual(verdict.verifiedLevels, ['SLSA_BUILD_LEVEL_3']);
    assert.equal(verdict.timeVerified, '2026-01-15T11:00:00Z');
  });
});

describe('verify --vsa refuses a summary that must not be trusted, naming one check', () => {
  it('none for this policy beside the model: summary, SUMMARY_NOT_FOUND', async () => {
    const model = await fileModel();
    await summarize(model, { policy: otherPolicy });
    const run = await vsa(model);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /FAIL {2}summary {3}no verification summary for this policy next to the model: looked for .*\.vsa-[0-9a-f]{16}\.sigstore\.json \[SUMMARY_NOT_FOUND\]\nNOT VERIFIED: failed summary\n$/);
  });

  it('signed by another key (forged): signature, WRONG_KEY', async () => {
    const model = await fileModel();
    await summarize(model, { key: other });
    refusedWith(await vsa(model, '--json'), 'signature', 'WRONG_KEY');
  });

  it('copied beside another model: resourceUri, RESOURCE_MISMATCH', async () => {
    const model = await fileModel();
    const elsewhere = await fileModel();
    await summarize(model, { about: elsewhere });
    refusedWith(await vsa(model, '--json'), 'resourceUri', 'RESOURCE_MISMATCH');
  });

  it('for another policy (named by --vsa-file, or put under this policy\'s name): policy, POLICY_MISMATCH', async () => {
    const model = await fileModel();
    const theirs = await summarize(model, { policy: otherPolicy });
    refusedWith(await cli(['verify', model.path, '--key', platform.publicPath, '--policy', policyPath, '--vsa-file', theirs, '--json']), 'policy', 'POLICY_MISMATCH');
    await writeFile(new URL(summaryLocation(model.uri, policy.digest)), await readFile(new URL(theirs)));
    refusedWith(await vsa(model, '--json'), 'policy', 'POLICY_MISMATCH');
  });

  it('FAILED: verificationResult, SUMMARY_FAILED', async () => {
    const model = await fileModel();
    await summarize(model, { passed: false });
    refusedWith(await vsa(model, '--json'), 'verificationResult', 'SUMMARY_FAILED');
  });

  it('by another verifier, or too old: verifierId VERIFIER_MISMATCH, maxAge TOO_OLD', async () => {
    const model = await fileModel();
    await summarize(model, { verifierId: 'https://elsewhere.example/#verifier', at: new Date(NOW.getTime() - 40 * 86_400_000) });
    const run = await vsa(model, '--json', '--verifier-id', VERIFIER, '--max-age', '30d');
    assert.equal(run.code, 1);
    assert.deepEqual(failedChecks(run.stdout), { verifierId: 'VERIFIER_MISMATCH', maxAge: 'TOO_OLD' });
  });
});

describe('verify --vsa used wrongly (exit 2, one line)', () => {
  async function usage(argv: string[], message: RegExp): Promise<void> {
    const run = await cli(argv);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, message);
  }

  it('without --policy, with a flag that would change the policy, or with a provenance flag', async () => {
    const model = await fileModel();
    await usage(['verify', model.path, '--key', platform.publicPath, '--vsa'], /--vsa needs --policy FILE/);
    await usage(['verify', model.path, '--key', platform.publicPath, '--policy', policyPath, '--vsa', '--deny', 'pkg:pypi/torch'], /--deny cannot be used with --vsa/);
    await usage(['verify', model.path, '--key', platform.publicPath, '--policy', policyPath, '--vsa', '--provenance', 'x.json'], /--provenance cannot be used with --vsa/);
    await usage(['verify', model.path, '--key', platform.publicPath, '--no-download'], /--no-download goes with --vsa/);
    await usage(['verify', model.path, '--key', platform.publicPath, '--policy', policyPath, '--vsa-file', 'missing.json'], /--vsa-file missing\.json: no such file or object/);
  });
});

describe('verify and pull --policy FILE', () => {
  it('apply the file\'s rules as the flags would', async () => {
    const model = await fileModel({ frameworks: ['pkg:pypi/torch@2.5.1'] });
    const run = await cli(['verify', model.path, '--key', platform.publicPath, '--policy', policyPath, '--json']);
    assert.equal(run.code, 1);
    assert.deepEqual(failedChecks(run.stdout), { 'deny pkg:pypi/torch@<2.6.0': 'DENIED_DEPENDENCY' });
  });

  it('a flag replaces its key of the file', async () => {
    const model = await fileModel({ frameworks: ['pkg:pypi/torch@2.5.1'] });
    const run = await cli(['verify', model.path, '--key', platform.publicPath, '--policy', policyPath, '--deny', 'pkg:pypi/torch@<2.0', '--namespace', 'team-nlp', '--json']);
    assert.deepEqual(failedChecks(run.stdout), { namespace: 'NAMESPACE_MISMATCH' });
  });

  it('require-model-signature in the file requires it', async () => {
    const model = await fileModel();
    const file = join(root, 'sig.yaml');
    await writeFile(file, 'require-model-signature: true\n');
    const run = await cli(['verify', model.path, '--key', platform.publicPath, '--policy', file]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /\[MODEL_SIGNATURE_NOT_FOUND\]/);
  });

  it('pull takes it from SLSA_ML_PULL_POLICY, as a file or as the YAML itself', async () => {
    const model = await fileModel({ frameworks: ['pkg:pypi/torch@2.5.1'] });
    const env = { SLSA_ML_PULL_KEY: platform.publicPem, SLSA_ML_TERMINATION_MESSAGE_PATH: join(root, 'termination') };
    const fromFile = await cli(['pull', model.path, await mkdtemp(join(root, 'dest-'))], { env: { ...env, SLSA_ML_PULL_POLICY: policyPath } });
    assert.equal(fromFile.code, 1);
    assert.match(fromFile.stderr, /deny pkg:pypi\/torch@<2\.6\.0: trained with pkg:pypi\/torch@2\.5\.1 \[DENIED_DEPENDENCY\]/);
    const inline = await cli(['pull', model.path, await mkdtemp(join(root, 'dest-'))], { env: { ...env, SLSA_ML_PULL_POLICY: 'namespace: team-vision\ndeny:\n  - pkg:pypi/torch@<2.0\n' } });
    assert.equal(inline.code, 0, inline.stderr);
  });

  it('a bad policy file is a usage error naming the file and the key', async () => {
    const model = await fileModel();
    const file = join(root, 'bad.yaml');
    await writeFile(file, 'namespace: team-vision\ndeny: pkg:pypi/torch\n');
    const run = await cli(['verify', model.path, '--key', platform.publicPath, '--policy', file]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr.split('\n')[0], `slsa-ml verify: policy file ${file}: key deny: must be a list of package URL rules, got string "pkg:pypi/torch"`);
  });
});

describe('slsa-ml policy FILE', () => {
  it('prints the name, the digest, the summary name and the normalized rules', async () => {
    const run = await cli(['policy', policyPath]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, [
      `policy   ${policyPath}`,
      'name     https://acme.example/policies/serving',
      `digest   sha256:${policy.digest}`,
      `summary  MODEL.vsa-${policy.digest.slice(0, 16)}.sigstore.json`,
      'rules    {"deny":["pkg:pypi/torch@<2.6.0"],"namespace":"team-vision"}',
      '',
    ].join('\n'));
    const json = JSON.parse((await cli(['policy', policyPath, '--json'])).stdout) as { digest: { sha256: string }; rules: unknown };
    assert.equal(json.digest.sha256, policy.digest);
    assert.deepEqual(json.rules, { deny: ['pkg:pypi/torch@<2.6.0'], namespace: 'team-vision' });
  });

  it('refuses a bad file (exit 2) and a missing one', async () => {
    const file = join(root, 'unknown.yaml');
    await writeFile(file, 'builderid: x\n');
    assert.match((await cli(['policy', file])).stderr, /^slsa-ml policy: policy file .*unknown\.yaml: key builderid: unknown key/);
    assert.equal((await cli(['policy', join(root, 'nope.yaml')])).code, 2);
  });
});

describe('query, with summaries beside the models', () => {
  it('does not take a summary for provenance', async () => {
    const model = await fileModel();
    await summarize(model);
    const dir = model.path.slice(0, model.path.lastIndexOf('/') + 1);
    const run = await cli(['query', '--under', dir, '--key', platform.publicPath, '--dependency', 'pkg:pypi/torch@<2.0', '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const answer = JSON.parse(run.stdout) as { scanned: number; unverifiable: unknown[] };
    assert.equal(answer.scanned, 1);
    assert.deepEqual(answer.unverifiable, []);
  });
});
