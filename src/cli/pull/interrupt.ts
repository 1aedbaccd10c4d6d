// SIGTERM (Kubernetes stopping the Pod) or SIGINT aborts a pull: downloads stop, the staging
// directory is removed, and the pull fails naming the signal. The handlers are ours only while a
// pull runs; taking them away restores the default (the process ends at once).
import type { SignalSource } from '../io.ts';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export interface Interrupt {
  readonly signal: AbortSignal;
  /** The signal that arrived first, if any. */
  received(): string | undefined;
  dispose(): void;
}

export function listenForInterrupt(source: SignalSource): Interrupt {
  const controller = new AbortController();
  let first: string | undefined;
  const listeners = SIGNALS.map((name) => {
    const listener = (): void => {
      first ??= name;
      controller.abort(new Error(`interrupted by ${name}`));
    };
    source.on(name, listener);
    return { name, listener };
  });
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      for (const { name, listener } of listeners) source.off(name, listener);
    },
  };
}
