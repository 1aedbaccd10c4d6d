// Whether node_modules holds what package-lock.json pins: npm's own record of the last install
// (node_modules/.package-lock.json) against the lockfile, entry by entry, and every package on
// disk. hack/run.sh runs `npm ci` when it does not. Prints why not; exit 1 when stale.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry { readonly version?: string; readonly integrity?: string; readonly resolved?: string; readonly optional?: boolean }
type Packages = Record<string, LockEntry>;

const repo = join(import.meta.dirname, '..');

function packages(path: string): Packages {
  return (JSON.parse(readFileSync(path, 'utf8')) as { packages?: Packages }).packages ?? {};
}

/** The first lockfile entry npm did not install as pinned. */
function notAsPinned(wanted: Packages, installed: Packages): string | undefined {
  for (const [path, entry] of Object.entries(wanted)) {
    const have = installed[path];
    // The root is not a package; optional packages for other platforms are never installed.
    if (path === '' || (!have && entry.optional)) continue;
    if (!have) return `${path} is missing`;
    if (have.version !== entry.version || have.integrity !== entry.integrity || have.resolved !== entry.resolved) {
      return `${path} is ${have.version ?? '?'}, package-lock.json says ${entry.version ?? '?'}`;
    }
  }
  return undefined;
}

/** The first installed package the lockfile no longer names, or that is gone from disk. */
function notWanted(root: string, wanted: Packages, installed: Packages): string | undefined {
  for (const path of Object.keys(installed).filter((p) => p !== '')) {
    if (!(path in wanted)) return `${path} is not in package-lock.json`;
    if (!existsSync(join(root, path, 'package.json'))) return `${path} was removed`;
  }
  return undefined;
}

/** Why node_modules differs from the lockfile, or undefined when it does not. */
export function staleReason(root: string): string | undefined {
  const hidden = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(hidden)) return existsSync(join(root, 'node_modules')) ? 'node_modules was not installed by npm ci' : 'there is no node_modules';
  const wanted = packages(join(root, 'package-lock.json'));
  const installed = packages(hidden);
  return notAsPinned(wanted, installed) ?? notWanted(root, wanted, installed);
}

if (import.meta.main) {
  const reason = staleReason(process.argv[2] ?? repo);
  if (reason) console.log(reason);
  process.exitCode = reason ? 1 : 0;
}
