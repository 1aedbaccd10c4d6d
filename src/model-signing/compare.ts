// The signed manifest against the model as measured now, the way `model_signing verify` decides:
// the model's files, less those under the signature's ignore_paths, must be exactly the signed
// ones with the same digests — an added, missing, renamed or changed file fails.
import { failed, passed, type CheckOutcome } from '../verify/index.ts';
import type { ModelManifest } from './manifest.ts';

const SHOWN = 5;

export function compareManifests(signed: ModelManifest, actual: ModelManifest, ignorePaths: readonly string[]): CheckOutcome {
  const want = new Map(signed.resources.map((r) => [r.name, r.sha256]));
  const have = new Map(actual.resources.filter((r) => !ignored(r.name, ignorePaths)).map((r) => [r.name, r.sha256]));
  const extra = [...have.keys()].filter((name) => !want.has(name));
  const missing = [...want.keys()].filter((name) => !have.has(name));
  const changed = [...want.keys()].filter((name) => have.has(name) && have.get(name) !== want.get(name));
  const problems = [
    extra.length > 0 ? `files not in the signature: ${list(extra)}` : '',
    missing.length > 0 ? `signed files missing: ${list(missing)}` : '',
    changed.length > 0 ? `files whose sha256 differs: ${list(changed)}` : '',
  ].filter((p) => p !== '');
  if (problems.length > 0) return failed('MODEL_MISMATCH', problems.join('; '));
  return passed(`${want.size} ${want.size === 1 ? 'file matches' : 'files match'} the signed manifest`);
}

// model_signing's should_ignore: a path equal to, or below, an ignored path.
function ignored(name: string, ignorePaths: readonly string[]): boolean {
  return ignorePaths.some((p) => {
    const prefix = p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    return prefix !== '' && prefix !== '.' && (name === prefix || name.startsWith(`${prefix}/`));
  });
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, SHOWN).map((n) => JSON.stringify(n)).join(', ');
  return names.length > SHOWN ? `${shown} and ${names.length - SHOWN} more` : shown;
}
