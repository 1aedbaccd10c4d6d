import type { DigestProgress } from './types.ts';

/** Accumulates bytes and files across concurrent hashes and reports each change. */
export class ProgressTracker {
  readonly #state: DigestProgress;
  readonly #onProgress: ((p: DigestProgress) => void) | undefined;

  constructor(bytesTotal: number, filesTotal: number, onProgress?: (p: DigestProgress) => void) {
    this.#state = { bytesDone: 0, bytesTotal, filesDone: 0, filesTotal };
    this.#onProgress = onProgress;
  }

  start(): void {
    this.#emit();
  }

  addBytes(n: number): void {
    this.#state.bytesDone += n;
    // A file that grows while we read it must not report more than 100 %.
    if (this.#state.bytesDone > this.#state.bytesTotal) this.#state.bytesTotal = this.#state.bytesDone;
    this.#emit();
  }

  fileDone(): void {
    this.#state.filesDone += 1;
    if (this.#state.filesDone === this.#state.filesTotal) this.#state.bytesTotal = this.#state.bytesDone;
    this.#emit();
  }

  #emit(): void {
    this.#onProgress?.({ ...this.#state });
  }
}
