// Links in the install and project documents lead somewhere: every relative link names a file of
// this repository (and a heading of it, for `#anchor`s), and README links only inside the
// repository, so it reads the same in a clone, a release archive and on GitHub.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

const repo = join(import.meta.dirname, '..', '..');
const DOCUMENTS = ['README.md', 'SECURITY.md', 'CHANGELOG.md', 'docs/gke.md', 'docs/configuration.md', 'docs/serving.md'];

interface Link { readonly from: string; readonly target: string }

function links(file: string): Link[] {
  const text = readFileSync(join(repo, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => ({ from: file, target: m[1] ?? '' }));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(file: string): Set<string> {
  const headings = [...readFileSync(file, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1] ?? '');
  return new Set(headings.map((h) => h.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')));
}

describe('links in the documents', () => {
  it('README links only to files inside the repository', () => {
    const outside = links('README.md').filter((l) => /^[a-z][a-z0-9+.-]*:/i.test(l.target) || relative(repo, join(repo, l.target)).startsWith('..'));
    assert.deepEqual(outside, []);
  });

  for (const file of DOCUMENTS) {
    it(`${file}: every relative link names an existing file, and heading`, () => {
      for (const { target } of links(file).filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target))) {
        const [path = '', anchor] = target.split('#');
        const resolved = path === '' ? join(repo, file) : join(repo, dirname(file), path);
        assert.ok(resolved.startsWith(repo + '/') && existsSync(resolved), `${file}: ${target} does not exist`);
        if (anchor !== undefined && resolved.endsWith('.md')) assert.ok(anchors(resolved).has(anchor), `${file}: ${target}: no heading #${anchor}`);
      }
    });
  }
});
