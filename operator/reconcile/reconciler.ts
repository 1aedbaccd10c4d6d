// The reconcile loop body. It receives only a key, reads the TaskRun live, and names its steps:
// decide → (hold | release | attest → record outcome). Returns 'retry' for transient faults.
import type { Logger } from 'pino';
import type { ProvenanceSettings } from '../../src/provenance/index.ts';
import type { Signer } from '../../src/signing/index.ts';
import type { Storage } from '../../src/storage/index.ts';
import type { ClusterFacts, EventRecorder, OwnedMetadata, TaskRun, TaskRuns } from '../kube/index.ts';
import { attest } from './attest.ts';
import { classify } from './classify.ts';
import { ReconcileFailure, toFailure } from './failure.ts';
import type { MeasureSettings } from '../../src/attest/index.ts';
import { ANNOTATION, FINALIZER, LABEL, outcomeMetadata, type Outcome } from './outcome.ts';

export interface ReconcileSettings extends MeasureSettings {
  readonly provenance: ProvenanceSettings;
  readonly attestFailedRuns: boolean;
  readonly useFinalizer: boolean;
  readonly maxHoldSeconds: number;
  readonly retryBudgetMs: number;
}

export interface ReconcileMetrics {
  outcome(outcome: Outcome, completionToStoredSeconds?: number): void;
  retried(code: string): void;
}

export interface ReconcilerDeps {
  readonly taskRuns: TaskRuns;
  readonly facts: ClusterFacts;
  readonly events: EventRecorder;
  readonly storage: () => Storage;
  readonly signer: () => Signer;
  readonly settings: () => ReconcileSettings;
  readonly metrics: ReconcileMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #firstFailure = new Map<string, number>();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string): Promise<'done' | 'retry'> {
    const [namespace = '', name = ''] = key.split('/');
    const tr = await this.#deps.taskRuns.get(namespace, name);
    if (!tr) return 'done';
    const settings = this.#deps.settings();
    switch (classify(tr, { attestFailedRuns: settings.attestFailedRuns, useFinalizer: settings.useFinalizer })) {
      case 'ignore':
        return 'done';
      case 'hold':
        await this.#deps.taskRuns.applyMetadata(tr, { finalizers: [FINALIZER] });
        return 'done';
      case 'release':
        await this.#deps.taskRuns.applyMetadata(tr, ownedOutcome(tr));
        return 'done';
      case 'attest':
        return this.#attest(tr, settings);
    }
  }

  async #attest(tr: TaskRun, settings: ReconcileSettings): Promise<'done' | 'retry'> {
    const log = this.#deps.logger.child({ taskRun: `${tr.metadata.namespace}/${tr.metadata.name}`, uid: tr.metadata.uid });
    let outcome: Outcome;
    try {
      const bundles = await attest({ facts: this.#deps.facts, storage: this.#deps.storage(), signer: this.#deps.signer(), settings }, tr);
      outcome = { kind: 'signed', bundles };
    } catch (err) {
      const failure = this.#giveUpOrRetry(tr, toFailure(err), settings);
      if (!failure) {
        log.warn({ err: String(err) }, 'transient failure; will retry');
        return 'retry';
      }
      outcome = { kind: 'failed', code: failure.code, reason: failure.message };
    }
    await this.#record(tr, outcome, log);
    this.#firstFailure.delete(tr.metadata.uid);
    return 'done';
  }

  /** undefined: retry later; otherwise the terminal failure to record. */
  #giveUpOrRetry(tr: TaskRun, failure: ReconcileFailure, settings: ReconcileSettings): ReconcileFailure | undefined {
    if (!failure.retryable) return failure;
    const now = this.#now();
    const first = this.#firstFailure.get(tr.metadata.uid) ?? now;
    this.#firstFailure.set(tr.metadata.uid, first);
    const deletedAt = tr.metadata.deletionTimestamp ? new Date(tr.metadata.deletionTimestamp).getTime() : undefined;
    if (deletedAt !== undefined && now - deletedAt > settings.maxHoldSeconds * 1000) {
      return new ReconcileFailure('FINALIZER_TIMEOUT', `deleted ${settings.maxHoldSeconds}s ago and still failing: ${failure.code}: ${failure.message}`);
    }
    if (now - first >= settings.retryBudgetMs) {
      return new ReconcileFailure('RETRY_BUDGET_EXHAUSTED', `gave up after ${Math.round((now - first) / 1000)}s: ${failure.code}: ${failure.message}`);
    }
    this.#deps.metrics.retried(failure.code);
    return undefined;
  }

  async #record(tr: TaskRun, outcome: Outcome, log: Logger): Promise<void> {
    // One apply sets the outcome and, by leaving the finalizer out, releases the TaskRun.
    await this.#deps.taskRuns.applyMetadata(tr, outcomeMetadata(outcome));
    const completed = tr.status?.completionTime ? Date.parse(tr.status.completionTime) : NaN;
    const latency = Number.isNaN(completed) ? undefined : Math.max(0, (this.#now() - completed) / 1000);
    this.#deps.metrics.outcome(outcome, latency);
    if (outcome.kind === 'signed') {
      log.info({ provenance: outcome.bundles }, 'provenance stored');
    } else {
      log.warn({ code: outcome.code, reason: outcome.reason }, 'provenance failed');
    }
    await this.#deps.events.record(tr, outcome.kind === 'signed'
      ? { type: 'Normal', reason: 'ProvenanceStored', message: `signed provenance stored at ${outcome.bundles.join(', ')}` }
      : { type: 'Warning', reason: 'ProvenanceFailed', message: `${outcome.code}: ${outcome.reason}` },
    ).catch((err: unknown) => log.warn({ err: String(err) }, 'could not record the Event'));
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }
}

/** Our annotations and label as they stand, so an apply that drops the finalizer keeps them. */
function ownedOutcome(tr: TaskRun): OwnedMetadata {
  const annotations: Record<string, string> = {};
  for (const key of Object.values(ANNOTATION)) {
    const value = tr.metadata.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  const label = tr.metadata.labels?.[LABEL];
  return { annotations, ...(label !== undefined ? { labels: { [LABEL]: label } } : {}) };
}
