// hack/run.sh runs `npm ci` only when node_modules is not what package-lock.json pins: judged by
// npm's own record of the last install (node_modules/.package-lock.json) and the packages on disk.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { staleReason } from '../../hack/npm-packages.ts';

const roots: string[] = [];
after(() => { for (const root of roots) rmSync(root, { recursive: true, force: true }); });

type Entries = Record<string, { version: string; integrity?: string; optional?: boolean }>;

const LOCK: Entries = {
  'node_modules/yaml': { version: '2.9.1', integrity: 'sha512-aaa' },
  'node_modules/@esbuild/darwin-arm64': { version: '0.25.0', integrity: 'sha512-bbb', optional: true },
};

/** A clone with package-lock.json, and node_modules as npm ci leaves it for `installed`. */
function clone(installed: Entries | undefined, onDisk: string[] = Object.keys(installed ?? {})): string {
  const root = mkdtempSync(join(tmpdir(), 'slsa-ml-npm-'));
  roots.push(root);
  const lock = (packages: Entries): string => JSON.stringify({ name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' }, ...packages } });
  writeFileSync(join(root, 'package-lock.json'), lock(LOCK));
  if (!installed) return root;
  mkdirSync(join(root, 'node_modules'));
  writeFileSync(join(root, 'node_modules', '.package-lock.json'), lock(installed));
  for (const path of onDisk) {
    mkdirSync(join(root, path), { recursive: true });
    writeFileSync(join(root, path, 'package.json'), '{}');
  }
  return root;
}

const installed: Entries = { 'node_modules/yaml': { version: '2.9.1', integrity: 'sha512-aaa' } };

describe('whether node_modules is current', () => {
  it('is, when every package the lockfile pins is installed at that version (optional ones for other platforms aside)', () => {
    assert.equal(staleReason(clone(installed)), undefined);
  });

  it('is not, without node_modules', () => {
    assert.equal(staleReason(clone(undefined)), 'there is no node_modules');
  });

  it('is not, when a package is at another version than the lockfile says', () => {
    assert.equal(staleReason(clone({ 'node_modules/yaml': { version: '2.8.0', integrity: 'sha512-old' } })), 'node_modules/yaml is 2.8.0, package-lock.json says 2.9.1');
  });

  it('is not, when a package the lockfile pins is missing', () => {
    assert.equal(staleReason(clone({})), 'node_modules/yaml is missing');
  });

  it('is not, when a package no longer in the lockfile is installed', () => {
    assert.equal(staleReason(clone({ ...installed, 'node_modules/left-pad': { version: '1.3.0' } })), 'node_modules/left-pad is not in package-lock.json');
  });

  it('is not, when a package was deleted from node_modules after the install', () => {
    assert.equal(staleReason(clone(installed, [])), 'node_modules/yaml was removed');
  });
});
