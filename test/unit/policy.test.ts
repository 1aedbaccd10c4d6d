// src/policy: the rules users write on the command line (package ranges, images, durations,
// repositories) and the checks they become over a verified statement.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
  PolicyError,
  comparableVersion,
  diffFiles,
  matchDependency,
  matchImages,
  parseDependencyRule,
  parseDuration,
  parseImageRule,
  parsePurl,
  policyChecks,
  sameRepository,
  statementFacts,
} from '../../src/policy/index.ts';
import type { InTotoStatement } from '../../src/verify/index.ts';

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

  it('reads PyPI versions as PEP 440 orders them (local builds, release candidates, two-part versions)', () => {
    const r = rule('pkg:pypi/torch@<2.6.0');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.5.1+cu121')?.kind, 'match');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.6.0rc1')?.kind, 'match', '2.6.0rc1 comes before 2.6.0');
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.6.0.post1'), undefined);
    assert.equal(matchDependency(r, 'pkg:pypi/torch@2.5')?.kind, 'match');
    assert.equal(comparableVersion('pypi', '2.7.0.dev20240101'), '2.7.0-0.dev.20240101');
    assert.equal(comparableVersion('pypi', '1!2.0'), undefined, 'another epoch cannot be ordered');
  });

  it('treats PyPI names as PyPI does (case, "-", "_", ".") and keeps npm scopes', () => {
    assert.equal(matchDependency(rule('pkg:pypi/Tensorflow_CPU@<2.12'), 'pkg:pypi/tensorflow-cpu@2.11.1')?.kind, 'match');
    assert.deepEqual(parsePurl('pkg:npm/%40tensorflow/tfjs@4.22.0?foo=bar#sub'), { type: 'npm', namespace: '@tensorflow', name: 'tfjs', version: '4.22.0' });
    assert.equal(matchDependency(rule('pkg:npm/@tensorflow/tfjs@<5'), 'pkg:npm/%40tensorflow/tfjs@4.22.0')?.kind, 'match');
  });

  it('without a version, selects every version; "==" is read as "="', () => {
    assert.equal(matchDependency(rule('pkg:pypi/torch'), 'pkg:pypi/torch@2.8.0')?.kind, 'match');
    assert.equal(matchDependency(rule('pkg:pypi/torch@==2.8.0'), 'pkg:pypi/torch@2.8.0')?.kind, 'match');
  });

  it('reports a named package whose version is missing or unreadable as undecidable, not as clear', () => {
    assert.equal(matchDependency(rule('pkg:pypi/torch@<2.6.0'), 'pkg:pypi/torch')?.kind, 'undecidable');
    assert.equal(matchDependency(rule('pkg:pypi/torch@<2.6.0'), 'pkg:pypi/torch@nightly')?.kind, 'undecidable');
  });

  it('refuses rules that are not a package URL with a semver range, with code BAD_DEPENDENCY_RULE', () => {
    for (const text of ['torch<2.6.0', 'pkg:pypi/torch@<<2', 'pkg:pypi/torch@<2.6?x=y', 'pkg:/torch@1']) {
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
