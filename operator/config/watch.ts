// Reloads the config when the mounted ConfigMap changes. The kubelet updates a ConfigMap volume
// by writing a new timestamped directory and renaming a `..data` symlink over the old one, so
// the file's own inode never changes: watch the directory and re-read on any event.
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadConfig } from './load.ts';
import type { OperatorConfig } from './types.ts';

const DEBOUNCE_MS = 200;

/**
 * Calls onChange with each new valid config that differs from the last one; an invalid file
 * keeps the last config and calls onError. The baseline is `initial` — pass the config the
 * process runs with, so a change made before watching started is still delivered — or else the
 * file as it is now. Returns a function that stops watching.
 */
export function watchConfig(
  path: string,
  env: NodeJS.ProcessEnv,
  onChange: (config: OperatorConfig) => void,
  onError: (err: Error) => void,
  initial?: OperatorConfig,
): () => void {
  let current = initial ?? tryLoad(path, env);
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    timer = undefined;
    let next: OperatorConfig;
    try {
      next = loadConfig(path, env);
    } catch (err) {
      onError(err as Error);
      return;
    }
    if (current !== undefined && isDeepStrictEqual(current, next)) return;
    current = next;
    onChange(next);
  };
  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, () => {
    clearTimeout(timer);
    timer = setTimeout(reload, DEBOUNCE_MS);
  });
  watcher.on('error', (err) => onError(err));
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}

function tryLoad(path: string, env: NodeJS.ProcessEnv): OperatorConfig | undefined {
  try {
    return loadConfig(path, env);
  } catch {
    return undefined; // the caller has already seen this error from its own loadConfig
  }
}
