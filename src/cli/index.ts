export { main, runCli } from './main.ts';
export type { CliIo, Output } from './io.ts';
export type { Command } from './command.ts';
