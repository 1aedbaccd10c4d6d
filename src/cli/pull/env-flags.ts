// Flags from the environment, for a container whose arguments someone else writes: KServe runs a
// storage initializer with `<storageUri> <destination>` only, so a ClusterStorageContainer sets
// the rest as SLSA_ML_PULL_<FLAG> (--builder-id is SLSA_ML_PULL_BUILDER_ID). A flag on the
// command line wins over its variable, and any trust flag over every trust variable (one way to
// trust, not a mix). An unknown SLSA_ML_PULL_ variable is refused: a misspelt policy must fail
// the pull, not quietly drop a check.
import { UsageError } from '../errors.ts';
import type { FlagSpecs, ParsedFlags } from '../flags.ts';

export const ENV_PREFIX = 'SLSA_ML_PULL_';

export interface EnvFlagRules {
  /** Flags with a variable of their own elsewhere (SLSA_ML_GCS_ENDPOINT): no SLSA_ML_PULL_ name. */
  readonly exclude: readonly string[];
  /** Flags that go together: one of them on the command line sets aside all their variables. */
  readonly groups: ReadonlyArray<readonly string[]>;
}

export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replaceAll('-', '_');
}

export function withEnvFlags(flags: ParsedFlags, specs: FlagSpecs, env: Readonly<Record<string, string | undefined>>, rules: EnvFlagRules): ParsedFlags {
  const known = new Map(Object.keys(specs).filter((f) => !rules.exclude.includes(f)).map((f) => [envName(f), f]));
  const unknown = Object.keys(env).find((name) => name.startsWith(ENV_PREFIX) && !known.has(name));
  if (unknown !== undefined) throw new UsageError(`environment variable ${unknown}: no such flag (SLSA_ML_PULL_<FLAG> sets --<flag>; see --help)`);
  const given = (flag: string): boolean => flags.strings.has(flag) || flags.lists.has(flag) || flags.booleans.has(flag);
  const setAside = (flag: string): boolean => given(flag) || rules.groups.some((g) => g.includes(flag) && g.some(given));
  const merged = { strings: new Map(flags.strings), lists: new Map(flags.lists), booleans: new Set(flags.booleans) };
  for (const [name, flag] of known) {
    const raw = env[name]?.trim();
    // Kubernetes writes an env entry without a value as ""; that sets nothing.
    if (raw === undefined || raw === '' || setAside(flag)) continue;
    const spec = specs[flag];
    if (spec?.type === 'boolean') {
      if (booleanValue(name, raw)) merged.booleans.add(flag);
    } else if (spec?.multiple) {
      merged.lists.set(flag, raw.split('\n').map((line) => line.trim()).filter((line) => line !== ''));
    } else {
      merged.strings.set(flag, raw);
    }
  }
  return { ...merged, positionals: flags.positionals };
}

function booleanValue(name: string, raw: string): boolean {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new UsageError(`environment variable ${name}=${JSON.stringify(raw)}: expected true or false`);
}
