// The operator's Prometheus metrics on a registry of its own (tests and embedders never share
// the global one). Label values come from closed sets so cardinality stays bounded.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FAILURE_CODES } from '../reconcile/failure.ts';
import { OPERATOR_VERSION } from '../version.ts';

export type AttestationOutcome = 'signed' | 'failed' | 'skipped';
const OUTCOMES: readonly AttestationOutcome[] = ['signed', 'failed', 'skipped'];

/** Why an attestation failed: the failure codes the TaskRun annotation and Events carry (docs/operator.md). */
export const FAILURE_REASONS = FAILURE_CODES;
/** A failure code; anything else is counted as INTERNAL. */
export type FailureReason = string;

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
  /** Reads attempts in flight and the oldest one's age (seconds) when scraped. */
  readonly attempts: { observe(read: () => { inFlight: number; oldestSeconds: number }): void };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const attestations = new Counter({
    name: 'slsa_ml_attestations_total', help: 'Training runs attested, by outcome.', labelNames: ['outcome'], registers,
  });
  const failures = new Counter({
    name: 'slsa_ml_failures_total', help: 'Attestations that failed, by reason.', labelNames: ['reason'], registers,
  });
  const retries = new Counter({ name: 'slsa_ml_retries_total', help: 'Reconciles retried after a transient fault.', registers });
  const completionToStored = new Histogram({
    name: 'slsa_ml_completion_to_stored_seconds',
    help: 'Seconds from a TaskRun finishing to its provenance being stored.',
    buckets: COMPLETION_TO_STORED_BUCKETS,
    registers,
  });
  const queueDepth = new Gauge({ name: 'slsa_ml_queue_depth', help: 'TaskRun keys waiting in the work queue.', registers });
  const leader = new Gauge({ name: 'slsa_ml_leader', help: '1 while this replica holds the leader lease, else 0.', registers });
  const watchRestarts = new Counter({ name: 'slsa_ml_watch_restarts_total', help: 'TaskRun watches restarted.', registers });
  // Constant 1; the labels say which build runs, so dashboards can join on it and a rollout shows.
  new Gauge({
    name: 'slsa_ml_build_info', help: 'Always 1; labels name the running slsa-ml version and Node.js version.', labelNames: ['version', 'nodejs'], registers,
  }).set({ version: OPERATOR_VERSION, nodejs: process.version }, 1);
  let readAttempts = (): { inFlight: number; oldestSeconds: number } => ({ inFlight: 0, oldestSeconds: 0 });
  new Gauge({
    name: 'slsa_ml_attempts_in_flight', help: 'Reconcile attempts running now.', registers,
    collect() { this.set(readAttempts().inFlight); },
  });
  new Gauge({
    name: 'slsa_ml_oldest_attempt_seconds', help: 'Age of the oldest reconcile attempt running now (0 when none is).', registers,
    collect() { this.set(readAttempts().oldestSeconds); },
  });
  // Every series exists from the start, so rate() and alerts see zeros rather than gaps.
  for (const outcome of OUTCOMES) attestations.inc({ outcome }, 0);
  for (const reason of FAILURE_REASONS) failures.inc({ reason }, 0);
  leader.set(0);
  return {
    registry,
    attestations: { inc: (outcome) => attestations.inc({ outcome: OUTCOMES.includes(outcome) ? outcome : 'failed' }) },
    failures: { inc: (reason) => failures.inc({ reason: (FAILURE_REASONS as readonly string[]).includes(reason) ? reason : 'INTERNAL' }) },
    retries: { inc: () => retries.inc() },
    completionToStored: { observe: (seconds) => completionToStored.observe(Math.max(0, seconds)) },
    queueDepth: { set: (depth) => queueDepth.set(depth) },
    leader: { set: (leading) => leader.set(leading ? 1 : 0) },
    watchRestarts: { inc: () => watchRestarts.inc() },
    attempts: { observe: (read) => { readAttempts = read; } },
  };
}
