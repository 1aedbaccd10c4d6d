// slsa-ml query --under PREFIX --dependency RULE | --image DIGEST: which models under a prefix
// were trained with a given framework version or container image, by their verified provenance.
import { parseImageRule } from '../../policy/index.ts';
import { parseStorageUri } from '../../storage/index.ts';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from '../command.ts';
import { EXIT, InputError, UsageError } from '../errors.ts';
import { parseFlags, wholeNumber, type FlagSpecs } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { parseRules, usage } from '../policy-flags.ts';
import type { Inspection } from '../query/inspect.ts';
import { renderJson, renderTable, type QueryAnswer } from '../query/render.ts';
import { scanProvenance } from '../query/scan.ts';
import { select, type Selectors } from '../query/select.ts';
import { isOutage, STORAGE_FLAGS, STORAGE_HELP, storageFromFlags, storageUnavailable } from '../storage-flags.ts';
import { TRUST_FLAGS, TRUST_HELP, verifierFromFlags } from '../trust-flags.ts';

const FLAGS: FlagSpecs = {
  ...TRUST_FLAGS,
  ...STORAGE_FLAGS,
  under: { type: 'string' },
  dependency: { type: 'string', multiple: true },
  image: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  'check-digests': { type: 'boolean' },
  'allow-empty': { type: 'boolean' },
  json: { type: 'boolean' },
};

const HELP = `Usage: slsa-ml query --under PREFIX (--dependency 'PURL@RANGE' | --image sha256:HEX)... [flags]

Lists the models under PREFIX whose verified provenance records a matching training framework
(resolvedDependencies package URL) or container image (oci:// dependency digest). Every
provenance file under PREFIX is verified with the given trust; those that fail are listed as
unverifiable and are neither reported as affected nor as clear.

Selection (at least one; a model matching any of them is affected):
  --under PREFIX                gs://bucket/prefix/ (or file:// / a local directory) to search
  --dependency 'PURL@RANGE'     a package URL with a version range (PEP 440 for PyPI, semver
                                otherwise), e.g. 'pkg:pypi/torch@>=2.0,<2.6' (repeatable)
  --image sha256:HEX            a container image digest, optionally REPOSITORY@sha256:HEX (repeatable)

${TRUST_HELP}

Other:
  --concurrency N               provenance files verified at once (default 8)
  --check-digests               also re-measure every matching model's bytes (slow)
  --allow-empty                 no provenance under PREFIX is an answer (exit 0), not an error
${STORAGE_HELP}
  --json                        print the answer as JSON on stdout
  -h, --help                    show this help

Exit codes: 0 every provenance file verified and no model is affected; 1 affected models found,
or provenance that could not be verified (neither can be cleared); 2 usage or input error,
including no provenance file at all under PREFIX (a mistyped prefix) unless --allow-empty, and
storage that stayed unavailable (429/5xx, resets, deadlines) after retries: no answer at all.

Examples:
  slsa-ml query --under gs://ml-models/ --dependency 'pkg:pypi/torch@>=2.0.0 <2.6.0' --key cosign.pub
  slsa-ml query --under gs://ml-models/team-vision/ --dependency 'pkg:pypi/tensorflow@<2.12' \\
      --image sha256:1efd201a56e626eecb1c5dba97a5f2b28ce6590b47a6887aaac41ca6f88ee7e5 --key cosign.pub --json
`;

export const queryCommand: Command = {
  name: 'query',
  summary: 'list models trained with a framework version or image, by verified provenance',
  help: HELP,
  run: runQuery,
};

async function runQuery(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  if (flags.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(flags.positionals[0])}`);
  const under = underUri(flags.strings.get('under'), io.cwd);
  const selectors: Selectors = {
    dependencies: parseRules('--dependency', flags.lists.get('dependency') ?? []),
    images: (flags.lists.get('image') ?? []).map((v) => usage('--image', v, parseImageRule)),
  };
  if (selectors.dependencies.length === 0 && selectors.images.length === 0) {
    throw new UsageError("say what to look for: --dependency 'pkg:pypi/torch@<2.6.0' and/or --image sha256:HEX");
  }
  const concurrency = wholeNumber('--concurrency', flags.strings.get('concurrency') ?? '8');
  const verifier = await verifierFromFlags(flags, io);
  const storage = storageFromFlags(flags, io);
  const answer = newAnswer(under);
  try {
    await scanProvenance(under, { storage, verifier, concurrency, checkDigests: flags.booleans.has('check-digests') }, (inspection) => {
      collect(answer, inspection, selectors);
    });
  } catch (err) {
    // No answer rather than a partial one: a model unread is neither clear nor unverifiable.
    if (isOutage(err)) throw storageUnavailable(`--under ${under}`, err);
    throw err;
  }
  if (answer.scanned === 0 && !flags.booleans.has('allow-empty')) {
    throw new InputError('NO_PROVENANCE', `--under ${under}: no provenance files (*.sigstore.json, *.intoto.jsonl) under this prefix; check it, or pass --allow-empty`);
  }
  answer.affected.sort((a, b) => a.model.localeCompare(b.model));
  answer.unverifiable.sort((a, b) => a.provenance.localeCompare(b.provenance));
  io.stdout.write(flags.booleans.has('json') ? renderJson(answer) : renderTable(answer));
  return exitCode(answer);
}

// A job gates on the exit code: anything a person must look at is not a pass.
function exitCode(answer: QueryAnswer): number {
  return answer.affected.length > 0 || answer.unverifiable.length > 0 ? EXIT.failed : EXIT.ok;
}

function newAnswer(under: string): QueryAnswer {
  return { under, scanned: 0, verified: 0, affected: [], unverifiable: [] };
}

// Only affected and unverifiable results are kept: the rest of the listing is counted and dropped.
function collect(answer: QueryAnswer, inspection: Inspection, selectors: Selectors): void {
  answer.scanned += 1;
  if (!inspection.verified) {
    answer.unverifiable.push(inspection);
    return;
  }
  answer.verified += 1;
  const selected = select(inspection.facts, selectors);
  if (!selected) return;
  const { facts } = inspection;
  answer.affected.push({
    model: inspection.model,
    provenance: inspection.provenance,
    selected,
    ...definedOnly({ namespace: facts.taskRun.namespace, taskRun: facts.taskRun.name, uid: facts.invocationId, finishedOn: facts.finishedOn, builderId: facts.builderId }),
    ...(facts.workflow ? { workflow: facts.workflow } : {}),
    ...(facts.runKind ? { runKind: facts.runKind } : {}),
  });
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
}

function underUri(value: string | undefined, cwd: string): string {
  if (value === undefined) throw new UsageError('missing --under gs://bucket/prefix/ (where to search)');
  if (value.startsWith('gs://') || value.startsWith('file:')) {
    try {
      parseStorageUri(value);
    } catch (err) {
      throw new UsageError(`--under: ${(err as Error).message}`, { cause: err });
    }
    return value;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new UsageError(`--under ${value}: only gs://, file:// and local directories are supported`);
  return `${pathToFileURL(resolve(cwd, value)).href.replace(/\/?$/, '/')}`;
}
