// The container's termination message: Kubernetes reads the file at terminationMessagePath
// (/dev/termination-log unless the Pod says otherwise) when a container ends and shows it in
// `kubectl describe pod`, so the reason a model was refused is on the Pod, not only in its logs.
// The path comes from --termination-message-path, else $SLSA_ML_TERMINATION_MESSAGE_PATH, else the
// default — which outside Kubernetes does not exist and is then skipped without a word.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';

import type { CliIo } from '../io.ts';
import { describeFsError } from '../local-files.ts';

export const DEFAULT_TERMINATION_PATH = '/dev/termination-log';
export const TERMINATION_FLAG = 'termination-message-path';
export const TERMINATION_ENV = 'SLSA_ML_TERMINATION_MESSAGE_PATH';
/** Kubernetes keeps at most 4096 bytes of a container's message. */
const MAX_BYTES = 4096;

export interface TerminationLog {
  readonly path: string;
  /** Named by the user: created if missing, and a failure to write it is reported. */
  readonly explicit: boolean;
}

/**
 * Read from the raw arguments, not the parsed flags: a command line that does not parse is a
 * failure the message must report too.
 */
export function terminationLog(args: readonly string[], io: CliIo): TerminationLog {
  const named = flagValue(args, `--${TERMINATION_FLAG}`) ?? (io.env[TERMINATION_ENV]?.trim() || undefined);
  return named === undefined ? { path: DEFAULT_TERMINATION_PATH, explicit: false } : { path: resolve(io.cwd, named), explicit: true };
}

/** Writes `line`; returns why it could not, for a path the user named (the default fails silently). */
export async function writeTerminationMessage(log: TerminationLog, line: string): Promise<string | undefined> {
  // Never create the default: outside a container, /dev is no place for a new file.
  const flags = constants.O_WRONLY | constants.O_TRUNC | (log.explicit ? constants.O_CREAT : 0);
  try {
    const fh = await open(log.path, flags, 0o644);
    try {
      await fh.writeFile(truncate(line));
    } finally {
      await fh.close();
    }
    return undefined;
  } catch (err) {
    return log.explicit ? `cannot write the termination message to ${log.path}: ${describeFsError(err)}` : undefined;
  }
}

function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return undefined;
    if (arg === flag) return args[i + 1] || undefined;
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1) || undefined;
  }
  return undefined;
}

function truncate(line: string): Buffer {
  const bytes = Buffer.from(line, 'utf8');
  if (bytes.length <= MAX_BYTES) return bytes;
  // Cut on a character boundary: back up over UTF-8 continuation bytes.
  let end = MAX_BYTES;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
