// A syntax check for Kubernetes label selectors (labels.Parse), so a typo fails at start-up
// instead of as a watch error: `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`,
// `k>1`, `k<1`, joined by commas.
import type { Check } from './fields.ts';

const NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const KEY = `(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?/)?${NAME}`;
const VALUE = `(?:${NAME})?`;
const REQUIREMENT = [
  `!\\s*${KEY}`,
  KEY,
  `${KEY}\\s*(?:==|=|!=)\\s*${VALUE}`,
  `${KEY}\\s+(?:in|notin)\\s*\\(\\s*${VALUE}(?:\\s*,\\s*${VALUE})*\\s*\\)`,
  `${KEY}\\s*[<>]\\s*-?\\d+`,
].map((alternative) => new RegExp(`^${alternative}$`));

export const labelSelector: Check = (selector) => {
  if (selector.trim() === '') return undefined;
  for (const requirement of splitRequirements(selector)) {
    if (!REQUIREMENT.some((re) => re.test(requirement))) return `not a label selector requirement: ${JSON.stringify(requirement)}`;
  }
  return undefined;
};

/** Splits at commas outside parentheses (`a in (x,y),b` is two requirements). */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(selector.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(selector.slice(start).trim());
  return parts;
}
