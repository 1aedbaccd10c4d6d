// Command-line flags through node:util parseArgs, with messages that name the flag and the
// problem ("unknown flag --kye") instead of parseArgs' own wording, and refusal of a single-value
// flag given twice (the last one silently winning would hide a mistake).
import { parseArgs } from 'node:util';

import { UsageError } from './errors.ts';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export interface ParsedFlags {
  readonly strings: ReadonlyMap<string, string>;
  readonly lists: ReadonlyMap<string, readonly string[]>;
  readonly booleans: ReadonlySet<string>;
  readonly positionals: readonly string[];
}

export function parseFlags(args: readonly string[], specs: FlagSpecs): ParsedFlags {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: specs, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    throw new UsageError(rephrase(err as Error & { code?: string }), { cause: err });
  }
  const counts = optionCounts(parsed.tokens ?? []);
  const strings = new Map<string, string>();
  const lists = new Map<string, readonly string[]>();
  const booleans = new Set<string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (specs[name]?.multiple) lists.set(name, (value as string[]).map((v) => nonEmpty(name, v)));
    else if ((counts.get(name) ?? 0) > 1) throw new UsageError(`flag --${name} is given more than once`);
    else if (typeof value === 'string') strings.set(name, nonEmpty(name, value));
    else if (value === true) booleans.add(name);
  }
  return { strings, lists, booleans, positionals: parsed.positionals };
}

function nonEmpty(name: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`flag --${name} needs a non-empty value`);
  return value;
}

function rephrase(err: Error & { code?: string }): string {
  const flag = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing|ambiguous/.test(err.message) ? `flag ${flag} needs a value` : `flag ${flag} takes no value`;
    default:
      return err.message;
  }
}

function optionCounts(tokens: ReadonlyArray<{ kind: string; name?: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of tokens) {
    if (token.kind === 'option' && token.name !== undefined) counts.set(token.name, (counts.get(token.name) ?? 0) + 1);
  }
  return counts;
}

/** A count such as --concurrency: a whole number from 1 to `max`. */
export function wholeNumber(flag: string, value: string, max = 256): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} ${value}: must be a whole number from 1 to ${max}`);
  return n;
}
