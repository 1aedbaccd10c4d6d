// The slsa-ml command line (every command but `operator`, which operator/bin.ts runs itself).
// main() owns the process edge: it picks the command, prints help, and turns every error into
// one line on stderr and an exit code — 2 for usage and input errors, never a stack trace
// unless SLSA_ML_DEBUG is set.
import { attestCommand } from './commands/attest.ts';
import { attestCiCommand } from './commands/attest-ci.ts';
import { keygenCommand } from './commands/keygen.ts';
import { policyCommand } from './commands/policy.ts';
import { pullCommand } from './commands/pull.ts';
import { queryCommand } from './commands/query.ts';
import { verifyCommand } from './commands/verify.ts';
import { versionCommand } from './commands/version.ts';
import type { Command } from './command.ts';
import { errorReport } from './error-report.ts';
import { EXIT } from './errors.ts';
import { processIo, type CliIo } from './io.ts';

const COMMANDS: ReadonlyArray<Command> = [verifyCommand, pullCommand, queryCommand, attestCommand, attestCiCommand, policyCommand, keygenCommand, versionCommand];

export async function main(argv: string[]): Promise<number> {
  return runCli(argv, processIo());
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  // `slsa-ml --version`, as most tools spell it.
  const [name, args] = first === '--version' ? ['version', rest] : [first, rest];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return help(name, args, io);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`slsa-ml: unknown command ${JSON.stringify(name)}\nRun 'slsa-ml --help' for the commands.\n`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    return report(command, err, io);
  }
}

function help(name: string | undefined, args: readonly string[], io: CliIo): number {
  if (name === undefined) {
    io.stderr.write(topLevelHelp());
    return EXIT.usage;
  }
  const topic = name === 'help' ? COMMANDS.find((c) => c.name === args[0]) : undefined;
  io.stdout.write(topic ? topic.help : topLevelHelp());
  return EXIT.ok;
}

function report(command: Command, err: unknown, io: CliIo): number {
  if (io.env.SLSA_ML_DEBUG) io.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  const { text, code } = errorReport(command.name, err);
  io.stderr.write(text);
  return code;
}

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `Usage: slsa-ml COMMAND [flags]

SLSA provenance for machine-learning models trained by Tekton.

Commands:
${list}
  operator${' '.repeat(Math.max(width - 8, 0))}  run the Kubernetes operator (see slsa-ml operator --help)

Run 'slsa-ml COMMAND --help' for a command's flags and examples.
`;
}
