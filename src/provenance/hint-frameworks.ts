// The slsa-ml FRAMEWORKS hint: an array result of package URLs (pkg:pypi/torch@2.8.0) naming the
// training frameworks the Task ran with. Reported by the training code, so tenant-reported.
import { HINT } from './constants.ts';
import { hintError } from './results.ts';
import type { RunResult } from './results.ts';

const PURL = /^pkg:[a-zA-Z][a-zA-Z0-9.+-]*\/[^\s]+$/;

export function readFrameworks(results: RunResult[]): string[] {
  const frameworks: string[] = [];
  for (const result of results.filter((r) => r.name === HINT.frameworks)) {
    if (!Array.isArray(result.value)) throw hintError('BAD_SHAPE', result, 'must be an array result of package URLs');
    for (const item of result.value as unknown[]) {
      if (typeof item !== 'string' || !PURL.test(item)) {
        throw hintError('BAD_PURL', result, `${JSON.stringify(item)} is not a package URL (pkg:<type>/<name>@<version>)`);
      }
      if (!frameworks.includes(item)) frameworks.push(item);
    }
  }
  return frameworks;
}
