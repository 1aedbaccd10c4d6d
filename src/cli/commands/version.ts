// slsa-ml version: which slsa-ml this is, for bug reports and for pinning a verifier in a pipeline.
import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../errors.ts';
import { parseFlags } from '../flags.ts';
import type { CliIo } from '../io.ts';
import { CLI_VERSION } from '../version.ts';

const HELP = `Usage: slsa-ml version [--json]

Prints the version of slsa-ml (also: slsa-ml --version).

  --json                        print {"name": "slsa-ml", "version": "…"}
  -h, --help                    show this help

Exit codes: 0 printed; 2 usage error.
`;

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the version of slsa-ml',
  help: HELP,
  run: runVersion,
};

function runVersion(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, { json: { type: 'boolean' } });
  if (flags.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(flags.positionals[0])}`);
  io.stdout.write(flags.booleans.has('json') ? `${JSON.stringify({ name: 'slsa-ml', version: CLI_VERSION })}\n` : `slsa-ml ${CLI_VERSION}\n`);
  return Promise.resolve(EXIT.ok);
}
