// What the demo prints: numbered steps on stdout, so a reader can follow it top to bottom.
// After Ctrl-C the steps still running fail as things stop under them; they print nothing more.
import { interruptedExitCode } from './cleanup.ts';

let step = 0;

export function say(text: string): void {
  if (interruptedExitCode() === undefined) console.log(text);
}

export function stepTitle(text: string): void {
  step += 1;
  say(`\n== ${step}. ${text}`);
}

export function detail(label: string, value: string): void {
  say(`   ${label.padEnd(12)} ${value}`);
}
