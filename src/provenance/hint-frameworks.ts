// The slsa-ml FRAMEWORKS hint: the training frameworks the Task ran with, as package URLs
// (pkg:pypi/torch@2.8.0). Reported by the training code, so tenant-reported. Besides the
// documented array, the shapes people write are read too: the name in any case (`frameworks`),
// one string of package URLs separated by commas, spaces or newlines, a JSON array inside a
// string, and pip pins (`torch==2.8.0`, read as pkg:pypi/torch@2.8.0). What cannot be read is
// not dropped in silence: the result is kept as a byproduct marked unreadable, and verify and
// query treat a model with an unreadable frameworks result as undecidable for a package rule.
import { HINT } from './constants.ts';
import type { RunResult } from './results.ts';

const PURL = /^pkg:[a-zA-Z][a-zA-Z0-9.+-]*\/[^\s]+$/;
const PIP_PIN = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)==([A-Za-z0-9.!+_-]+)$/;

/** A frameworks result that could not be read in full, and why. */
export interface UnreadableHint {
  readonly resultName: string;
  readonly step?: string;
  readonly reason: string;
}

export interface Frameworks {
  readonly purls: string[];
  readonly unreadable: UnreadableHint[];
}

export function isFrameworksName(name: string): boolean {
  return name.toUpperCase() === HINT.frameworks;
}

export function readFrameworks(results: RunResult[]): Frameworks {
  const purls: string[] = [];
  const unreadable: UnreadableHint[] = [];
  for (const result of results.filter((r) => isFrameworksName(r.name))) {
    const { items, problem } = itemsOf(result.value);
    const bad: string[] = problem === undefined ? [] : [problem];
    for (const item of items) {
      const purl = asPurl(item);
      if (purl === undefined) bad.push(`${JSON.stringify(item)} is not a package URL (pkg:<type>/<name>@<version>)`);
      else if (!purls.includes(purl)) purls.push(purl);
    }
    if (bad.length > 0) unreadable.push({ resultName: result.name, ...(result.step === undefined ? {} : { step: result.step }), reason: bad.join('; ') });
  }
  return { purls, unreadable };
}

function itemsOf(value: unknown): { items: string[]; problem?: string } {
  if (Array.isArray(value)) {
    const strings = value.filter((v): v is string => typeof v === 'string');
    return strings.length === value.length ? { items: trimmed(strings) } : { items: trimmed(strings), problem: 'the array holds values that are not strings' };
  }
  if (typeof value !== 'string') return { items: [], problem: 'must be an array of package URLs, or a string of them' };
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      return itemsOf(JSON.parse(text) as unknown);
    } catch {
      return { items: [], problem: 'a string that starts like a JSON array but is not one' };
    }
  }
  return { items: trimmed(text.split(/[\s,]+/)) };
}

function trimmed(items: string[]): string[] {
  return items.map((i) => i.trim()).filter((i) => i !== '');
}

function asPurl(item: string): string | undefined {
  if (PURL.test(item)) return item;
  const pin = PIP_PIN.exec(item);
  return pin ? `pkg:pypi/${(pin[1] ?? '').toLowerCase()}@${pin[2] ?? ''}` : undefined;
}
