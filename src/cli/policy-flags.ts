// verify's policy flags, parsed into src/policy's options (a bad rule is a usage error naming its flag),
// over the rules of a --policy file: a flag given replaces that key of the file.
import { PolicyError, parseDependencyRule, parseDuration, parseSourceRef, type DependencyRule, type PolicyOptions, type PolicyRules } from '../policy/index.ts';
import { UsageError } from './errors.ts';
import type { FlagSpecs, ParsedFlags } from './flags.ts';
import type { CliIo } from './io.ts';

export const POLICY_FLAGS: FlagSpecs = {
  policy: { type: 'string' },
  'builder-id': { type: 'string' },
  'source-repo': { type: 'string' },
  'source-ref': { type: 'string' },
  namespace: { type: 'string' },
  'max-age': { type: 'string' },
  deny: { type: 'string', multiple: true },
};

export const POLICY_HELP = `Policy (each adds a check; all must pass):
  --policy FILE                 a YAML file of these rules (or that YAML itself): keys builder-id,
                                source-repo, source-ref, namespace, max-age, deny (a list),
                                require-model-signature (true), and name (the policy's URI); a flag
                                below replaces its key
  --builder-id URI              runDetails.builder.id must equal URI (the operator installation,
                                or the reusable workflow for provenance from GitHub Actions)
  --source-repo REPO            the training source repository, e.g. github.com/org/repo
  --source-ref COMMIT|REF       the training source commit (full hex), or the ref it was trained
                                from, e.g. refs/heads/main or refs/tags/v1
  --namespace NS                the namespace of the TaskRun (or PipelineRun) that trained it
  --max-age DURATION            finished at most this long ago, e.g. 30d, 12h, 1d12h
  --deny 'PURL@RANGE'           refuse models trained with a package in a range: PEP 440 for PyPI
                                ('pkg:pypi/torch@<2.6.0', 'pkg:pypi/torch@>=2.0,<2.6', ~=2.5), semver
                                for others (repeatable; no @RANGE = any version)`;

/** `file`: the rules of the --policy file, if one was given. */
export function policyFromFlags(flags: ParsedFlags, io: CliIo, file: PolicyRules = {}): PolicyOptions {
  const maxAge = flags.strings.get('max-age');
  const sourceRef = flags.strings.get('source-ref');
  const deny = parseRules('--deny', flags.lists.get('deny') ?? []);
  return {
    ...file,
    now: () => io.now(),
    ...(flags.booleans.has('require-model-signature') ? { requireModelSignature: true } : {}),
    ...present('builderId', flags.strings.get('builder-id')),
    ...present('sourceRepo', flags.strings.get('source-repo')),
    ...present('sourceRef', sourceRef === undefined ? undefined : usage('--source-ref', sourceRef, parseSourceRef)),
    ...present('namespace', flags.strings.get('namespace')),
    ...present('maxAgeMs', maxAge === undefined ? undefined : usage('--max-age', maxAge, parseDuration)),
    ...(deny.length > 0 ? { deny } : {}),
  };
}

function present<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
}

export function parseRules(flag: string, values: readonly string[]): DependencyRule[] {
  return values.map((rule) => usage(flag, rule, parseDependencyRule));
}

export function usage<T>(flag: string, value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(`${flag}: ${err.message}`, { code: err.code, cause: err });
    throw err;
  }
}
