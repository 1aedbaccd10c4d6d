// One short line saying why a call failed. Google's clients join every retry's error into one
// message (" : Previous errors : [...]", kilobytes long) and name the whole request URL; a person
// needs the first reason only ("connect ECONNREFUSED 10.0.0.1:443"). The full error stays the cause.
const MAX_LENGTH = 240;

export function firstCause(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  let line = (message.split(' : Previous errors')[0] ?? '').split('\n')[0]?.trim() ?? '';
  line = line.replace(/^Total timeout of API \S+ exceeded \d+ milliseconds retrying error (Error: )?/, '');
  line = line.replace(/^Exceeded maximum number of retries retrying error (Error: )?/, '');
  const reason = /\bfailed, reason: (.+)$/.exec(line)?.[1];
  if (reason !== undefined) line = reason;
  line = line.replace(/\s+before any response was received\.?$/, '').trim();
  if (line === '') return err instanceof Error ? err.name : 'unknown error';
  return line.length > MAX_LENGTH ? `${line.slice(0, MAX_LENGTH - 1)}…` : line;
}
