// A one-line progress bar on stderr while a large model is hashed. Only on a terminal: piped
// or logged stderr (CI, a Tekton step) stays quiet, and so does a model that hashes in a blink.
import type { DigestProgress } from '../digest/index.ts';
import type { Output } from './io.ts';

export interface ProgressBar {
  readonly onProgress?: (p: DigestProgress) => void;
  /** Erases the bar, if one was drawn. */
  finish(): void;
}

export interface ProgressOptions {
  /** Smaller models get no bar (default 64 MiB). */
  readonly minBytes?: number;
  /** Redraw at most this often (default 100 ms). */
  readonly intervalMs?: number;
  readonly clock?: () => number;
}

const WIDTH = 30;

export function progressBar(out: Output, label: string, options: ProgressOptions = {}): ProgressBar {
  if (!out.isTTY) return { finish: () => undefined };
  const minBytes = options.minBytes ?? 64 * 1024 * 1024;
  const intervalMs = options.intervalMs ?? 100;
  const clock = options.clock ?? Date.now;
  let drawn = false;
  let last = -Infinity;
  return {
    onProgress: (p) => {
      const done = p.filesDone === p.filesTotal;
      if (p.bytesTotal < minBytes || (!done && clock() - last < intervalMs)) return;
      last = clock();
      drawn = true;
      out.write(`\r${renderLine(label, p, out.columns ?? 80)}\x1b[K`);
    },
    finish: () => {
      if (drawn) out.write('\r\x1b[K');
      drawn = false;
    },
  };
}

export function renderLine(label: string, p: DigestProgress, columns: number): string {
  const fraction = p.bytesTotal === 0 ? 1 : Math.min(p.bytesDone / p.bytesTotal, 1);
  const filled = Math.round(fraction * WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}]`;
  const files = p.filesTotal > 1 ? `  ${p.filesDone}/${p.filesTotal} files` : '';
  const line = `hashing ${label} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${bytes(p.bytesDone)}/${bytes(p.bytesTotal)}${files}`;
  return line.length < columns ? line : line.slice(0, Math.max(columns - 1, 0));
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit] ?? 'B'}`;
}
