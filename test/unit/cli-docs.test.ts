// docs/cli.md documents every failure code a check can print and every exit code of every command.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const repo = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(repo, 'docs', 'cli.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(repo, dir, f), 'utf8'));
}

describe('when a user looks up a code in docs/cli.md', () => {
  it('finds every code a verify, verify --vsa or query check can fail with', () => {
    const code = sources('src/verify').concat(sources('src/policy'), sources('src/vsa'), sources('src/cli')).join('\n');
    const codes = new Set([...code.matchAll(/failed\('([A-Z_]+)'/g), ...code.matchAll(/code: '([A-Z_]+)'/g)].map((m) => m[1] ?? ''));
    for (const c of /const CODES[^}]+}/.exec(readFileSync(join(repo, 'src', 'verify', 'sigstore-verify.ts'), 'utf8'))?.[0].matchAll(/'([A-Z_]+)'/g) ?? []) codes.add(c[1] ?? '');
    const missing = [...codes].filter((c) => c !== '' && !doc.includes(`\`${c}\``));
    assert.deepEqual(missing, []);
  });

  it('finds every input error code the commands raise', () => {
    const code = sources('src/cli').join('\n');
    const codes = new Set([...code.matchAll(/(?:InputError|RefusedError)\('([A-Z_]+)'/g)].map((m) => m[1] ?? ''));
    assert.deepEqual([...codes].filter((c) => !doc.includes(`\`${c}\``)), []);
  });

  it('has an exit-code column for every command', () => {
    const header = /\| code \|([^\n]+)\n/.exec(doc)?.[1] ?? '';
    for (const command of ['verify', 'pull', 'query', 'attest', 'attest-ci', 'policy', 'keygen', 'version']) assert.ok(header.includes(`\`${command}\``), command);
  });
});
