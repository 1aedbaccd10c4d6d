// What this process decided about outcomes sealed by someone else (another installation watching
// the same namespaces, a seal key we no longer hold, or a forgery), so that a decision is made
// once per run and seal rather than on every watch event, and so that a steady stream of them is
// said out loud: it usually means two installations watch the same namespaces. Memory is bounded:
// the oldest decisions are forgotten first (forgetting one costs one more judgement, no more).
export type ForeignDecision = 'left' | 'agreed' | 'resealed' | 'overruled';
export const FOREIGN_DECISIONS: readonly ForeignDecision[] = ['left', 'agreed', 'resealed', 'overruled'];

export interface ForeignOutcomesOptions {
  readonly maxRemembered?: number;
  /** How often at most the summary line is written while foreign outcomes keep coming. */
  readonly summaryEveryMs?: number;
  readonly count: (decision: ForeignDecision) => void;
  readonly summary: (fields: { outcomes: number; installations: string[]; namespaces: string[]; seconds: number }) => void;
  readonly now?: () => number;
}

const MAX_NAMES = 10;

export class ForeignOutcomes {
  /** uid → the seal judged last on it, and whether we already re-sealed that run once. */
  readonly #judged = new Map<string, { seal: string; resealed: boolean }>();
  readonly #max: number;
  readonly #every: number;
  readonly #opts: ForeignOutcomesOptions;
  /** When the last summary was written (none yet: the first decision is said at once). */
  #lastSummary = -Infinity;
  #since: number;
  #outcomes = 0;
  readonly #installations = new Set<string>();
  readonly #namespaces = new Set<string>();

  constructor(options: ForeignOutcomesOptions) {
    this.#opts = options;
    this.#max = options.maxRemembered ?? 10_000;
    this.#every = options.summaryEveryMs ?? 60_000;
    this.#since = this.#now();
  }

  /** Whether this very seal on this run was judged and left (so it needs nothing more from us). */
  judged(uid: string, seal: string): boolean {
    return this.#judged.get(uid)?.seal === seal;
  }

  /** Whether this process already re-sealed this run once (a second time would mean two installations share a name). */
  resealedBefore(uid: string): boolean {
    return this.#judged.get(uid)?.resealed === true;
  }

  /** Records a decision about `seal` on run `uid`, claimed by `installation`, in `namespace`. */
  decided(decision: ForeignDecision, uid: string, seal: string, installation: string, namespace: string): void {
    const resealed = decision === 'resealed' || this.resealedBefore(uid);
    this.#judged.delete(uid);
    if (decision !== 'overruled') this.#judged.set(uid, { seal, resealed });
    else if (resealed) this.#judged.set(uid, { seal: '', resealed });
    while (this.#judged.size > this.#max) this.#judged.delete(this.#judged.keys().next().value as string);
    this.#opts.count(decision);
    this.#outcomes += 1;
    if (this.#installations.size < MAX_NAMES) this.#installations.add(installation);
    if (this.#namespaces.size < MAX_NAMES) this.#namespaces.add(namespace);
    this.#maybeSummarise();
  }

  #maybeSummarise(): void {
    const now = this.#now();
    if (now - this.#lastSummary < this.#every) return;
    this.#lastSummary = now;
    this.#opts.summary({ outcomes: this.#outcomes, installations: [...this.#installations].sort(), namespaces: [...this.#namespaces].sort(), seconds: Math.round((now - this.#since) / 1000) });
    this.#since = now;
    this.#outcomes = 0;
    this.#installations.clear();
    this.#namespaces.clear();
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }
}
