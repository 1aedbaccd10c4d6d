// Durations as people write them on a command line: 30d, 12h, 90m, 2w, 1d12h.
import { PolicyError } from './errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!/^(\d+[smhdw])+$/.test(trimmed)) {
    throw new PolicyError('BAD_DURATION', `${JSON.stringify(text)} is not a duration: use a number and a unit s, m, h, d or w (e.g. 30d, 12h, 1d12h)`);
  }
  let ms = 0;
  for (const [, n, unit] of trimmed.matchAll(/(\d+)([smhdw])/g)) ms += Number(n) * (UNIT_MS[unit ?? ''] ?? 0);
  if (ms <= 0 || !Number.isSafeInteger(ms)) throw new PolicyError('BAD_DURATION', `${JSON.stringify(text)} must be a positive duration`);
  return ms;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "3d4h" style, for messages. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= DAY) return `${Math.floor(abs / DAY)}d${Math.floor((abs % DAY) / HOUR)}h`;
  if (abs >= HOUR) return `${Math.floor(abs / HOUR)}h${Math.floor((abs % HOUR) / MINUTE)}m`;
  return `${Math.floor(abs / MINUTE)}m${Math.floor((abs % MINUTE) / SECOND)}s`;
}
