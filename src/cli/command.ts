// The shape every subcommand has: a name, a one-line summary for `slsa-ml --help`, its own
// help text, and a run that returns the exit code (errors thrown are reported by main).
import type { CliIo } from './io.ts';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}
