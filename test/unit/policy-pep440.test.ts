// PyPI ranges mean what PEP 440 says they mean. The cases are PEP 440's own examples
// (https://peps.python.org/pep-0440/#version-specifiers), evaluated for installed versions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PolicyError, parsePep440Specifier, pep440Contains } from '../../src/policy/index.ts';

const contains = (version: string, specifier: string) => pep440Contains(version, parsePep440Specifier(specifier));

function table(rows: ReadonlyArray<readonly [string, string, boolean]>): void {
  for (const [version, specifier, want] of rows) assert.equal(contains(version, specifier), want, `${version} in ${specifier}`);
}

describe('when a PEP 440 compatible-release clause (~=) is evaluated', () => {
  it('means >= V, == V.* with the last release segment dropped, as PEP 440 spells out', () => {
    // ~= 2.2 is >= 2.2, == 2.*; ~= 1.4.5 is >= 1.4.5, == 1.4.*; ~= 2.2.post3 is >= 2.2.post3, == 2.*;
    // ~= 1.4.5a4 is >= 1.4.5a4, == 1.4.*; ~= 2.2.0 is >= 2.2.0, == 2.2.*; ~= 1.4.5.0 is >= 1.4.5.0, == 1.4.5.*
    table([
      ['2.2', '~=2.2', true], ['2.9', '~=2.2', true], ['3.0', '~=2.2', false], ['2.1', '~=2.2', false],
      ['1.4.9', '~=1.4.5', true], ['1.5.0', '~=1.4.5', false], ['1.4.4', '~=1.4.5', false],
      ['2.2.post3', '~=2.2.post3', true], ['2.9', '~=2.2.post3', true], ['2.2', '~=2.2.post3', false],
      ['1.4.5a4', '~=1.4.5a4', true], ['1.4.5', '~=1.4.5a4', true], ['1.5', '~=1.4.5a4', false],
      ['2.2.9', '~=2.2.0', true], ['2.3.0', '~=2.2.0', false],
      ['1.4.5.9', '~=1.4.5.0', true], ['1.4.6', '~=1.4.5.0', false],
      ['2.7.0', '~=2.5', true],
    ]);
  });

  it('refuses ~= with a single release segment', () => {
    assert.throws(() => parsePep440Specifier('~=1'), PolicyError);
  });
});

describe('when version matching (==, !=, ===) is evaluated', () => {
  it('compares whole versions, with zero padding, and a .* suffix as a prefix match', () => {
    // PEP 440: for version 1.1.post1, == 1.1 is False, == 1.1.post1 True, == 1.1.* True.
    table([['1.1.post1', '==1.1', false], ['1.1.post1', '==1.1.post1', true], ['1.1.post1', '==1.1.*', true]]);
    // PEP 440: for version 1.1a1, == 1.1 is False, == 1.1a1 True, == 1.1.* True.
    table([['1.1a1', '==1.1', false], ['1.1a1', '==1.1a1', true], ['1.1a1', '==1.1.*', true]]);
    // PEP 440: for version 1.1, == 1.1.0 True, == 1.1.dev1 False, == 1.1a1 False, == 1.1.post1 False, == 1.1.* True.
    table([['1.1', '==1.1.0', true], ['1.1', '==1.1.dev1', false], ['1.1', '==1.1a1', false], ['1.1', '==1.1.post1', false], ['1.1', '==1.1.*', true]]);
  });

  it('ignores a candidate local label unless the clause has one', () => {
    table([['1.1+cu121', '==1.1', true], ['1.1+cu121', '==1.1+cu121', true], ['1.1+cu121', '==1.1+cpu', false], ['1.1+cu121', '!=1.1', false]]);
  });

  it('excludes with != and !=V.*', () => {
    table([['1.1.post1', '!=1.1', true], ['1.1.post1', '!=1.1.*', false], ['1.2', '!=1.1.*', true]]);
  });

  it('compares === as plain strings (local labels included), also for versions PEP 440 cannot parse', () => {
    table([['1.0', '===1.0', true], ['1.0+downstream1', '===1.0', false], ['foobar', '===foobar', true]]);
  });
});

describe('when ordered comparisons are evaluated', () => {
  it('treats <= and >= as inclusive, by PEP 440 ordering (pre < final < post; epochs first)', () => {
    table([
      ['2.6.0rc1', '<=2.6.0', true], ['2.6.0.post1', '<=2.6.0', false], ['2.6.0.post1', '>=2.6.0', true],
      ['1!1.0', '>=2.0', true], ['2.0', '>=1!1.0', false],
    ]);
  });

  it('follows PEP 440 for > and <: >1.7 allows 1.7.1 but not 1.7.0.post1; >1.7.post2 allows 1.7.1 and 1.7.0.post3 but not 1.7.0', () => {
    table([
      ['1.7.1', '>1.7', true], ['1.7.0.post1', '>1.7', false], ['1.7+local', '>1.7', false],
      ['1.7.1', '>1.7.post2', true], ['1.7.0.post3', '>1.7.post2', true], ['1.7.0', '>1.7.post2', false],
    ]);
  });

  it('follows PEP 440 for <V: no pre-release of V unless V is itself a pre-release', () => {
    table([
      ['2.6.0rc1', '<2.6.0', false], ['2.6.0.dev1', '<2.6.0', false], ['2.5.9', '<2.6.0', true],
      ['2.6.0rc1', '<2.6.0rc2', true], ['2.6.0', '>2.6.0rc1', true], ['2.5.1+cu121', '<2.6.0', true],
    ]);
  });

  it('orders the PEP 440 example sequence from 1.0.dev456 to 1.1.dev1', () => {
    const order = ['1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456',
      '1.0b2.post345', '1.0rc1.dev456', '1.0rc1', '1.0', '1.0.post456.dev34', '1.0.post456', '1.0.15', '1.1.dev1'];
    for (let i = 1; i < order.length; i++) {
      const [before, after] = [order[i - 1] ?? '', order[i] ?? ''];
      assert.equal(contains(before, `<=${after}`), true, `${before} <= ${after}`);
      assert.equal(contains(after, `<=${before}`), false, `not ${after} <= ${before}`);
    }
  });

  it('requires every comma-separated clause', () => {
    table([['2.5.1', '>=2.0,<2.6,!=2.5.1', false], ['2.5.2', '>=2.0, <2.6, !=2.5.1', true]]);
  });
});

describe('when a specifier or version is not PEP 440', () => {
  it('refuses the specifier instead of matching nothing', () => {
    for (const bad of ['2.11.x', '^2.5', '=2.8.0', '<<2', '>=2.0,', '>1.0+local', '==1.0.*+x', 'latest', '~=2']) {
      assert.throws(() => parsePep440Specifier(bad), (err: unknown) => err instanceof PolicyError && err.code === 'BAD_DEPENDENCY_RULE', bad);
    }
    assert.throws(() => parsePep440Specifier('2.11.x'), /==2\.11\.\*/);
  });

  it('leaves a version it cannot read undecided', () => {
    assert.equal(contains('nightly', '<2.6'), undefined);
    assert.equal(contains('2.5.1', '<2.6'), true);
  });
});
