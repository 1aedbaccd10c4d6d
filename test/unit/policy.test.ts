// src/policy: the rules users write on the command line (package ranges, images, durations,
// repositories) and the checks they become over a verified statement.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
  PolicyError,
  diffFiles,
  matchDependency,
  matchImages,
  parseDependencyRule,
  parseDuration,
  parseImageRule,
  parsePurl,
  parseSourceRef,
  policyChecks,
  sameRepository,
  statementFacts,
} from '../../src/policy/index.ts';
import { splitSourceUri, type InTotoStatement } from '../../src/verify/index.ts';

const golden = (): InTotoStatement =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'provenance', 'cpu-pytorch', 'statement.json'), 'utf8')) as InTotoStatement;

const rule = (text: string) => parseDependencyRule(text);

describe('when a deny or dependency rule is matched against package URLs', () => {
  it('selects the versions inside the semver range and no others', () => {
    const r = rule('pkg:pypi/torch@>=2.0.0 <2.6.0');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.5.1')?.kind, 'match');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.0.0')?.kind, 'match');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.6.0'), undefined);
    assert.equal(matchDependency(r, 'pkg:pypi/torch@1.13.1'), undefined);
    assert.equal(matchDependency(r, 'pkg:pypi/torchvision@2.1.0'), undefined, 'another package with a common prefix');
    assert.equal(matchDependency(r, 'pkg:npm/torch@2.1.0'), undefined, 'the same name in another ecosystem');
  });

  it('reads PyPI versions as PEP 440 orders them (local builds, release candidates, two-part versions, epochs)', () => {
    const r = rule('pkg:pypi/torch@<2.6.0');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.5.1+cu121')?.kind, 'match');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.6.0rc1'), undefined, '<V excludes the pre-releases of V (PEP 440)');
    assert.equal(matchDependency(rule('pkg:pypi/torch@<=2.6.0'), 'pkg:pypi/torch@2.6.0rc1')?.kind, 'match');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.6.0.post1'), undefined);
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.5')?.kind, 'match');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.6.0.dev20240101'), undefined, 'a dev release of 2.6.0 is a pre-release of it');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@1!1.0'), undefined, 'another epoch orders after every 0! version');
  });

  it('denies torch 2.7.0 under ~=2.5 (PEP 440: >=2.5, ==2.*), where a semver mapping read ~=2.5 as 2.5.x', () => {
    assert.equal(matchDependency(rule('pkg:pypi/torch@~=2.5'), 'pkg:pypi/torch@2.7.0')?.kind, 'match');
    assert.equal(matchDependency(rule('pkg:pypi/torch@~=2.5.0'), 'pkg:pypi/torch@2.7.0'), undefined);
  });

  it('reads comma-separated clauses, !=, ===, wildcards, and whitespace between clauses', () => {
    assert.equal(matchDependency(rule('pkg:pypi/torch@>=2.0,<2.6,!=2.5.1'), 'pkg:pypi/torch@2.5.1'), undefined);
    assert.equal(matchDependency(rule('pkg:pypi/torch@>=2.0,<2.6,!=2.5.1'), 'pkg:pypi/torch@2.5.2')?.kind, 'match');
    assert.equal(matchDependency(rule('pkg:pypi/torch@==2.5.*'), 'pkg:pypi/torch@2.5.1+cu121')?.kind, 'match');
    assert.equal(matchDependency(rule('pkg:pypi/torch@===2.5.1'), 'pkg:pypi/torch@2.5.1+cu121'), undefined);
    assert.equal(matchDependency(rule('pkg:pypi/torch@>=2.0.0 <2.6.0'), 'pkg:pypi/torch@2.5.1')?.kind, 'match');
    assert.equal(rule('pkg:pypi/torch@>=2.0.0 <2.6.0').range, '>=2.0.0,<2.6.0');
  });

  it('treats PyPI names as PyPI does (case, "-", "_", ".") and keeps npm scopes', () => {
    assert.equal(matchDependency(rule('pkg:pypi/Tensorflow_CPU@<2.12'), 'pkg:pypi/tensorflow-cpu@2.11.1')?.kind, 'match');
    assert.deepEqual(parsePurl('pkg:npm/%40tensorflow/tfjs@4.22.0?foo=bar#sub'), { type: 'npm', namespace: '@tensorflow', name: 'tfjs', version: '4.22.0' });
    assert.equal(matchDependency(rule('pkg:npm/@tensorflow/tfjs@<5'), 'pkg:npm/%40tensorflow/tfjs@4.22.0')?.kind, 'match');
  });

  it('without a version, selects every version; a bare version is ==; outside PyPI "==" is read as "="', () => {
    assert.equal(matchDependency(rule('pkg:pypi/torch'), 'pkg:pypi/torch@2.8.0')?.kind, 'match');
    assert.equal(matchDependency(rule('pkg:pypi/torch@==2.8.0'), 'pkg:pypi/torch@2.8.0')?.kind, 'match');
    assert.equal(matchDependency(rule('pkg:pypi/torch@2.8.0'), 'pkg:pypi/torch@2.8.0')?.kind, 'match');
    assert.equal(matchDependency(rule('pkg:pypi/torch@2.8.0'), 'pkg:pypi/torch@2.8.1'), undefined);
    assert.equal(matchDependency(rule('pkg:npm/lodash@==4.17.21'), 'pkg:npm/lodash@4.17.21')?.kind, 'match');
    assert.equal(matchDependency(rule('pkg:npm/lodash@4.17.x'), 'pkg:npm/lodash@4.17.21')?.kind, 'match');
  });

  it('reports a named package whose version is missing or unreadable as undecidable, not as clear', () => {
    assert.equal(matchDependency(rule('pkg:pypi/torch@<2.6.0'), 'pkg:pypi/torch')?.kind, 'undecidable');
    assert.equal(matchDependency(rule('pkg:pypi/torch@<2.6.0'), 'pkg:pypi/torch@nightly')?.kind, 'undecidable');
  });

  it('refuses rules that are not a package URL with a range it understands, with code BAD_DEPENDENCY_RULE', () => {
    const unread = ['pkg:pypi/torch@~=2', 'pkg:pypi/torch@2.11.x', 'pkg:pypi/torch@=2.8.0', 'pkg:pypi/torch@>=2.0,', 'pkg:pypi/torch@^2.5', 'pkg:pypi/torch@>1.0+local', 'pkg:npm/x@<<2'];
    for (const text of ['torch<2.6.0', 'pkg:pypi/torch@<<2', 'pkg:pypi/torch@<2.6?x=y', 'pkg:/torch@1', ...unread]) {
      assert.throws(() => rule(text), (err: unknown) => err instanceof PolicyError && err.code === 'BAD_DEPENDENCY_RULE', text);
    }
  });
});

describe('when an image rule is matched against resolved dependencies', () => {
  const facts = statementFacts(golden());
  const train = '1efd201a56e626eecb1c5dba97a5f2b28ce6590b47a6887aaac41ca6f88ee7e5';

  it('selects an oci:// dependency by digest, in any repository or in the one named', () => {
    assert.deepEqual(matchImages(parseImageRule(`sha256:${train.toUpperCase()}`), facts.dependencies), [`oci://us-docker.pkg.dev/example-ml/images/pytorch-train@sha256:${train}`]);
    assert.equal(matchImages(parseImageRule(`us-docker.pkg.dev/example-ml/images/pytorch-train:2.8@sha256:${train}`), facts.dependencies).length, 1);
    assert.equal(matchImages(parseImageRule(`oci://docker.io/library/python@sha256:${train}`), facts.dependencies).length, 0);
    assert.equal(matchImages(parseImageRule(`sha256:${'0'.repeat(64)}`), facts.dependencies).length, 0);
  });

  it('refuses anything but a sha256 digest', () => {
    assert.throws(() => parseImageRule('pytorch-train:2.8'), { code: 'BAD_IMAGE_RULE' });
    assert.throws(() => parseImageRule('sha256:abc'), { code: 'BAD_IMAGE_RULE' });
  });
});

describe('when durations and repositories are written in the usual ways', () => {
  it('reads 30d, 12h, 90m, 2w and 1d12h, and refuses the rest', () => {
    assert.equal(parseDuration('30d'), 30 * 86_400_000);
    assert.equal(parseDuration('12h'), 12 * 3_600_000);
    assert.equal(parseDuration('1d12h'), 36 * 3_600_000);
    assert.equal(parseDuration('2w'), 14 * 86_400_000);
    for (const bad of ['30', 'd', '-1d', '1.5h', '0s', '']) assert.throws(() => parseDuration(bad), { code: 'BAD_DURATION' }, bad);
  });

  it('takes git+https://…/repo.git, https://…/repo, host/org/repo and git@host:org/repo as one repository', () => {
    const recorded = 'git+https://github.com/example/cifar10-training.git';
    for (const same of ['github.com/example/cifar10-training', 'https://GitHub.com/example/cifar10-training/', 'git@github.com:example/cifar10-training.git']) {
      assert.ok(sameRepository(recorded, same), same);
    }
    assert.equal(sameRepository(recorded, 'github.com/example/cifar10-training-fork'), false);
    assert.equal(sameRepository(recorded, 'github.com/Example/cifar10-training'), false, 'paths stay case-sensitive');
  });
});

describe('when policy checks run over a statement', () => {
  const now = () => new Date('2025-11-25T10:42:17Z');
  const run = (options: Parameters<typeof policyChecks>[0]) =>
    Promise.all(policyChecks({ now, ...options }).map(async (c) => ({ name: c.name, ...(await c.evaluate(golden())) })));

  it('passes every check that the provenance satisfies', async () => {
    const results = await run({
      builderId: 'https://slsa-ml.dev/operators/example-prod-us-central1',
      sourceRepo: 'github.com/example/cifar10-training',
      sourceRef: 'EC0B4F0B5C90ED0FA911A2972CCC452641B31563',
      namespace: 'team-vision',
      maxAgeMs: parseDuration('30d'),
      deny: [rule('pkg:pypi/torch@<2.6.0')],
    });
    assert.deepEqual(results.map((r) => [r.name, r.ok]), [
      ['builderId', true], ['sourceRepo', true], ['sourceRef', true], ['namespace', true], ['maxAge', true], ['deny pkg:pypi/torch@<2.6.0', true],
    ]);
  });

  it('fails each check with a code and a reason that says what was found', async () => {
    const results = await run({ builderId: 'https://other', sourceRepo: 'github.com/x/y', sourceRef: 'abc', namespace: 'ns', maxAgeMs: parseDuration('1d'), deny: [rule('pkg:pypi/torch@>=2.8.0')] });
    assert.deepEqual(results.map((r) => ('code' in r ? r.code : 'ok')), ['BUILDER_MISMATCH', 'SOURCE_MISMATCH', 'SOURCE_REF_MISMATCH', 'NAMESPACE_MISMATCH', 'TOO_OLD', 'DENIED_DEPENDENCY']);
    assert.match(String(results[0] && 'reason' in results[0] ? results[0].reason : ''), /example-prod-us-central1.*want https:\/\/other/);
    assert.match(String(results[5] && 'reason' in results[5] ? results[5].reason : ''), /pkg:pypi\/torch@2\.8\.0/);
  });

  it('fails closed when the statement lacks what a check needs', async () => {
    const bare: InTotoStatement = { ...golden(), predicate: { buildDefinition: {}, runDetails: {} } };
    const results = await Promise.all(
      policyChecks({ now, builderId: 'x', sourceRepo: 'y', namespace: 'n', maxAgeMs: 1000 }).map(async (c) => await c.evaluate(bare)),
    );
    assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.code)), ['BUILDER_MISSING', 'SOURCE_MISSING', 'NAMESPACE_MISSING', 'FINISH_TIME_MISSING']);
  });

  it('refuses a finish time far in the future', async () => {
    const [check] = policyChecks({ now: () => new Date('2025-11-01T00:00:00Z'), maxAgeMs: parseDuration('30d') });
    const result = await check?.evaluate(golden());
    assert.equal(result && !result.ok ? result.code : 'ok', 'FINISH_TIME_IN_FUTURE');
  });
});

describe('when the files of a directory model are compared with those signed', () => {
  it('names files added, removed, renamed and changed', () => {
    const signed = [{ path: 'a.pb', sha256: '1' }, { path: 'v/x', sha256: '2' }, { path: 'v/y', sha256: '3' }];
    const now = [{ path: 'a.pb', sha256: '9' }, { path: 'v/x2', sha256: '2' }, { path: 'v/z', sha256: '4' }];
    assert.deepEqual(diffFiles(signed, now), { added: ['v/z'], removed: ['v/y'], changed: ['a.pb'], renamed: [{ from: 'v/x', to: 'v/x2' }] });
  });
});

describe('when the source is recorded with the ref it was built from (GitHub Actions)', () => {
  const commit = '1f0a9e3c5b7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f';
  const github = (): InTotoStatement => ({
    ...golden(),
    predicate: {
      buildDefinition: {
        buildType: 'https://slsa-ml.dev/buildtypes/github-actions/v1',
        externalParameters: { workflow: { ref: 'refs/heads/main', repository: 'https://github.com/acme/models', path: '.github/workflows/train.yml' } },
        resolvedDependencies: [{ name: 'source', uri: 'git+https://github.com/acme/models@refs/heads/main', digest: { gitCommit: commit } }],
      },
      runDetails: { builder: { id: 'https://github.com/slsa-ml/slsa-ml/.github/workflows/provenance.yml@refs/tags/v1' }, metadata: { invocationId: 'https://github.com/acme/models/actions/runs/123/attempts/1' } },
    },
  });
  const codes = (statement: InTotoStatement, options: Parameters<typeof policyChecks>[0]) =>
    Promise.all(policyChecks(options).map(async (c) => {
      const r = await c.evaluate(statement);
      return r.ok ? 'ok' : r.code;
    }));

  it('reads the repository without the ref, the ref, the commit and the workflow', () => {
    const facts = statementFacts(github());
    assert.deepEqual(facts.source, { uri: 'git+https://github.com/acme/models@refs/heads/main', repository: 'https://github.com/acme/models', ref: 'refs/heads/main', commit });
    assert.deepEqual(facts.workflow, { repository: 'https://github.com/acme/models', path: '.github/workflows/train.yml', ref: 'refs/heads/main' });
    assert.equal(facts.buildType, 'https://slsa-ml.dev/buildtypes/github-actions/v1');
    assert.equal(statementFacts(golden()).workflow, undefined, 'a TaskRun statement has no workflow');
  });

  it('passes --source-repo for the repository and --source-ref for the ref or the commit; fails the others', async () => {
    assert.deepEqual(await codes(github(), { sourceRepo: 'github.com/acme/models', sourceRef: 'refs/heads/main' }), ['ok', 'ok']);
    assert.deepEqual(await codes(github(), { sourceRef: commit.toUpperCase() }), ['ok']);
    assert.deepEqual(await codes(github(), { sourceRepo: 'github.com/acme/other', sourceRef: 'refs/heads/other' }), ['SOURCE_MISMATCH', 'SOURCE_REF_MISMATCH']);
    assert.deepEqual(await codes(github(), { sourceRef: 'refs/heads/mai' }), ['SOURCE_REF_MISMATCH'], 'a ref is compared whole');
  });

  it('fails a ref policy with SOURCE_REF_MISSING where the provenance records only a commit', async () => {
    assert.deepEqual(await codes(golden(), { sourceRepo: 'github.com/example/cifar10-training', sourceRef: 'refs/heads/main' }), ['ok', 'SOURCE_REF_MISSING']);
  });

  it('splits a revision only from the path, never a user before the host', () => {
    assert.deepEqual(splitSourceUri('git+https://github.com/acme/models@refs/tags/v1'), { repository: 'https://github.com/acme/models', revision: 'refs/tags/v1' });
    assert.deepEqual(splitSourceUri('git+https://github.com/acme/models.git'), { repository: 'https://github.com/acme/models.git' });
    assert.deepEqual(splitSourceUri('https://user@github.com/acme/models'), { repository: 'https://user@github.com/acme/models' });
    assert.deepEqual(splitSourceUri('git@github.com:acme/models.git'), { repository: 'git@github.com:acme/models.git' });
    assert.deepEqual(splitSourceUri('git@github.com:acme/models.git@refs/heads/x'), { repository: 'git@github.com:acme/models.git', revision: 'refs/heads/x' });
  });

  it('takes a full commit or a refs/ ref as --source-ref, and refuses a branch name or a short commit', () => {
    assert.equal(parseSourceRef(commit), commit);
    assert.equal(parseSourceRef('a'.repeat(64)), 'a'.repeat(64), 'a SHA-256 repository');
    assert.equal(parseSourceRef('refs/tags/v1.2.0'), 'refs/tags/v1.2.0');
    for (const bad of ['main', 'ec0b4f0', 'refs/', 'refs/heads/', 'heads/main', '']) assert.throws(() => parseSourceRef(bad), { code: 'BAD_SOURCE_REF' }, bad);
  });
});

describe('when a TaskRun recorded several sources, or a frameworks result it could not read (Chains-compatible goldens)', () => {
  const goldenOf = (name: string): InTotoStatement =>
    JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'provenance', name, 'statement.json'), 'utf8')) as InTotoStatement;
  const codes = (statement: InTotoStatement, options: Parameters<typeof policyChecks>[0]) =>
    Promise.all(policyChecks(options).map(async (c) => {
      const r = await c.evaluate(statement);
      return r.ok ? 'ok' : r.code;
    }));

  it('passes --source-repo for either repository, and --source-ref only for the commit of the repository named', async () => {
    const statement = goldenOf('chains-sources');
    assert.deepEqual(statementFacts(statement).sources.map((s) => s.repository), ['https://github.com/example/detector.git', 'https://github.com/example/detector-config.git']);
    assert.deepEqual(await codes(statement, { sourceRepo: 'github.com/example/detector-config', sourceRef: '89e6c98d92887913cadf06b2adb97f26cde4849b' }), ['ok', 'ok']);
    assert.deepEqual(await codes(statement, { sourceRepo: 'github.com/example/detector', sourceRef: '3f786850e387550fdab836ed7e6dc881de23001b' }), ['ok', 'ok']);
    assert.deepEqual(await codes(statement, { sourceRepo: 'github.com/example/detector', sourceRef: '89e6c98d92887913cadf06b2adb97f26cde4849b' }), ['ok', 'SOURCE_REF_MISMATCH'],
      'the config repository\'s commit does not stand in for the code\'s');
    assert.deepEqual(await codes(statement, { sourceRepo: 'github.com/example/other' }), ['SOURCE_MISMATCH']);
  });

  it('fails a deny rule as DEPENDENCY_UNDECIDABLE when a frameworks result could not be read, unless a recorded package is denied', async () => {
    const statement = goldenOf('frameworks-shapes');
    assert.equal(statementFacts(statement).unreadableFrameworks.length, 1);
    assert.deepEqual(await codes(statement, { deny: [rule('pkg:pypi/pandas@<3')] }), ['DEPENDENCY_UNDECIDABLE']);
    assert.deepEqual(await codes(statement, { deny: [rule('pkg:pypi/xgboost@<4')] }), ['DENIED_DEPENDENCY']);
    assert.deepEqual(await codes(goldenOf('cpu-pytorch'), { deny: [rule('pkg:pypi/pandas@<3')] }), ['ok']);
  });
});
