// The model measured once, on first need (after a signature verified), for the provenance's
// subject and files checks and the model signature's files check alike, with a progress bar on a
// terminal. What "measure" means is the caller's: read the model (verify) or copy it (pull).
import type { DigestOptions, ModelDigest } from '../../digest/index.ts';
import type { CliIo } from '../io.ts';
import { progressBar } from '../progress.ts';

export interface Measurement {
  readonly measure: () => Promise<ModelDigest>;
  /** Erases the progress bar, if one was drawn. */
  finish(): void;
  /** What the measurement failed with, if it ran and failed. */
  failure(): unknown;
}

export function measurer(modelUri: string, io: CliIo, run: (opts: DigestOptions) => Promise<ModelDigest>): Measurement {
  const label = modelUri.replace(/\/$/, '').split('/').pop() ?? modelUri;
  const bar = progressBar(io.stderr, label);
  let measuring: Promise<ModelDigest> | undefined;
  let failed: unknown;
  const measure = (): Promise<ModelDigest> => (measuring ??= run(bar.onProgress ? { onProgress: bar.onProgress } : {}).catch((err: unknown) => {
    failed = err;
    throw err;
  }).finally(() => bar.finish()));
  return { measure, finish: () => bar.finish(), failure: () => failed };
}
