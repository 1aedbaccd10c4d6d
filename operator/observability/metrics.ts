// The operator's Prometheus metrics on a registry of its own (tests and embedders never share
// one). Label values come from closed sets so cardinality stays bounded.
import { addProcessMetrics, Registry } from './prometheus.ts';
import { FAILURE_CODES } from '../reconcile/failure.ts';
import { FOREIGN_DECISIONS, type ForeignDecision } from '../reconcile/foreign-outcomes.ts';
import { OPERATOR_VERSION } from '../version.ts';

export type AttestationOutcome = 'signed' | 'failed' | 'skipped';
const OUTCOMES: readonly AttestationOutcome[] = ['signed', 'failed', 'skipped'];

/** Why an attestation failed: the failure codes the TaskRun annotation and Events carry (docs/operator.md). */
export const FAILURE_REASONS = FAILURE_CODES;
/** A failure code; anything else is counted as INTERNAL. */
export type FailureReason = string;

/** The collections the operator watches (the last segment of a watch path); any other is counted as 'other'. */
const WATCHED_RESOURCES = ['taskruns', 'pipelineruns'];

/** Seconds from a TaskRun's completion to its provenance being stored: 50 ms … 5 min. */
export const COMPLETION_TO_STORED_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface Metrics {
  readonly registry: Registry;
  readonly attestations: { inc(outcome: AttestationOutcome): void };
  readonly failures: { inc(reason: FailureReason): void };
  readonly retries: { inc(): void };
  readonly completionToStored: { observe(seconds: number): void };
  readonly queueDepth: { set(depth: number): void };
  readonly leader: { set(leading: boolean): void };
  readonly watchRestarts: { inc(): void };
  /** Watch or list records skipped because they did not parse, and responses abandoned because they no longer split, by resource. */
  readonly watchUnparseable: { inc(resource: string): void };
  /** Watched objects the operator's own handler threw on, skipped (a bug to report), by resource. */
  readonly watchHandlerErrors: { inc(resource: string): void };
  /** Outcomes sealed by another installation (or a key no longer held), by what this one did. */
  readonly foreignOutcomes: { inc(decision: ForeignDecision): void };
  /** Reads attempts in flight and the oldest one's age (seconds) when scraped. */
  readonly attempts: { observe(read: () => { inFlight: number; oldestSeconds: number }): void };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  addProcessMetrics(registry);
  const attestations = registry.counter('slsa_ml_attestations_total', 'Training runs attested, by outcome.', 'outcome');
  const failures = registry.counter('slsa_ml_failures_total', 'Attestations that failed, by reason.', 'reason');
  const retries = registry.counter('slsa_ml_retries_total', 'Reconciles retried after a transient fault.');
  const completionToStored = registry.histogram('slsa_ml_completion_to_stored_seconds', 'Seconds from a TaskRun finishing to its provenance being stored.', COMPLETION_TO_STORED_BUCKETS);
  const queueDepth = registry.gauge('slsa_ml_queue_depth', 'TaskRun keys waiting in the work queue.');
  const leader = registry.gauge('slsa_ml_leader', '1 while this replica holds the leader lease, else 0.');
  const watchRestarts = registry.counter('slsa_ml_watch_restarts_total', 'TaskRun watches restarted.');
  const watchUnparseable = registry.counter('slsa_ml_watch_unparseable_records_total', 'Watch events and list items from the API server that could not be parsed (skipped, or the watch relisted), by resource.', 'resource');
  const watchHandlerErrors = registry.counter('slsa_ml_watch_handler_errors_total', 'Watched objects the operator failed to handle and skipped (an error line with the stack says why), by resource.', 'resource');
  const foreignOutcomes = registry.counter('slsa_ml_foreign_outcomes_total', 'Outcomes sealed by another installation or a key this one no longer holds, by decision (left, agreed, resealed, overruled).', 'decision');
  // Constant 1; the labels say which build runs, so dashboards can join on it and a rollout shows.
  registry.gauge('slsa_ml_build_info', 'Always 1; labels name the running slsa-ml version and Node.js version.', { read: () => 1, labels: { version: OPERATOR_VERSION, nodejs: process.version } });
  let readAttempts = (): { inFlight: number; oldestSeconds: number } => ({ inFlight: 0, oldestSeconds: 0 });
  registry.gauge('slsa_ml_attempts_in_flight', 'Reconcile attempts running now.', { read: () => readAttempts().inFlight });
  registry.gauge('slsa_ml_oldest_attempt_seconds', 'Age of the oldest reconcile attempt running now (0 when none is).', { read: () => readAttempts().oldestSeconds });
  // Every series exists from the start, so rate() and alerts see zeros rather than gaps.
  for (const outcome of OUTCOMES) attestations.inc(outcome, 0);
  for (const reason of FAILURE_REASONS) failures.inc(reason, 0);
  retries.inc('', 0);
  watchRestarts.inc('', 0);
  for (const resource of WATCHED_RESOURCES) {
    watchUnparseable.inc(resource, 0);
    watchHandlerErrors.inc(resource, 0);
  }
  for (const decision of FOREIGN_DECISIONS) foreignOutcomes.inc(decision, 0);
  return {
    registry,
    attestations: { inc: (outcome) => attestations.inc(OUTCOMES.includes(outcome) ? outcome : 'failed') },
    failures: { inc: (reason) => failures.inc((FAILURE_REASONS as readonly string[]).includes(reason) ? reason : 'INTERNAL') },
    retries: { inc: () => retries.inc() },
    completionToStored: { observe: (seconds) => completionToStored.observe(Math.max(0, seconds)) },
    queueDepth: { set: (depth) => queueDepth.set(depth) },
    leader: { set: (leading) => leader.set(leading ? 1 : 0) },
    watchRestarts: { inc: () => watchRestarts.inc() },
    watchUnparseable: { inc: (resource) => watchUnparseable.inc(WATCHED_RESOURCES.includes(resource) ? resource : 'other') },
    watchHandlerErrors: { inc: (resource) => watchHandlerErrors.inc(WATCHED_RESOURCES.includes(resource) ? resource : 'other') },
    foreignOutcomes: { inc: (decision) => foreignOutcomes.inc(decision) },
    attempts: { observe: (read) => { readAttempts = read; } },
  };
}
