// slsa-ml policy FILE: reads a policy file as verify --policy and the operator read it, and prints
// what it holds — its name, its digest (what verification summaries name it by), the summary name
// beside a model, and the normalized rules the digest is computed over. A mistake is the same usage
// error verify would give.
import { summarySuffix } from '../../layout/index.ts';
import { canonicalJson, type JsonObject } from '../../provenance/index.ts';
import { canonicalRules } from '../../policy/index.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../errors.ts';
import { parseFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { readPolicyFile } from '../policy-file.ts';

const HELP = `Usage: slsa-ml policy FILE [--json]

Checks a policy file (the rules of slsa-ml verify --policy and of the operator's
verificationSummaries.policyPaths) and prints its digest: SHA-256 over the canonical JSON of its
normalized rules, so comments, key order and how a duration is written do not change it. The
operator's verification summary for this policy lies beside a model as
MODEL.vsa-<first 16 hex of the digest>.sigstore.json.

A policy file is one YAML mapping with these keys, each the policy flag of the same name:
  name                          the policy's URI or name (in summaries; not part of the digest)
  builder-id, source-repo, source-ref, namespace, max-age   one value each
  deny                          a list of 'PURL@RANGE' rules
  require-model-signature       true or false

  --json                        print {file, name, digest: {sha256}, summarySuffix, rules}
  -h, --help                    show this help

Exit codes: 0 printed; 2 usage error (an unknown key or a bad value, naming the key).

Examples:
  slsa-ml policy serving-policy.yaml
  slsa-ml policy serving-policy.yaml --json
`;

export const policyCommand: Command = {
  name: 'policy',
  summary: 'check a policy file and print its digest and normalized rules',
  help: HELP,
  run: runPolicy,
};

async function runPolicy(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, { json: { type: 'boolean' } });
  const [file, ...extra] = flags.positionals;
  if (file === undefined) throw new UsageError('missing FILE: slsa-ml policy FILE (a YAML policy file)');
  if (extra.length > 0) throw new UsageError(`one FILE at a time; unexpected ${extra.map((e) => JSON.stringify(e)).join(' ')}`);
  const policy = await readPolicyFile(file, io, 'FILE');
  // Keys in canonical (sorted) order, as the digest sees them.
  const rules = JSON.parse(canonicalJson(canonicalRules(policy.rules))) as JsonObject;
  const suffix = summarySuffix(policy.digest);
  if (flags.booleans.has('json')) {
    io.stdout.write(`${JSON.stringify({ file, name: policy.name ?? null, digest: { sha256: policy.digest }, summarySuffix: suffix, rules }, null, 2)}\n`);
  } else {
    io.stdout.write([`policy   ${file}`, `name     ${policy.name ?? '(none)'}`, `digest   sha256:${policy.digest}`, `summary  MODEL${suffix}`, `rules    ${canonicalJson(rules)}`, ''].join('\n'));
  }
  return EXIT.ok;
}
