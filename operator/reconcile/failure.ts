// Tells a retryable fault from a terminal one. Library errors carry a code and (storage,
// signing) a retryable flag; Kubernetes API errors are judged by status code.
import { ApiStatusError } from '../kube/index.ts';

/**
 * Why a run was not signed: one closed vocabulary, the same in the `slsa-ml.dev/reason`
 * annotation, the Event, the `slsa_ml_failures_total{reason}` metric and docs/operator.md.
 */
export const FAILURE_CODES = [
  'MALFORMED_HINT',
  'PREFIX_NOT_ALLOWED',
  'DIGEST_MISMATCH',
  'MODEL_NOT_FOUND',
  // Replaced or deleted while it was measured: retried (a fresh attempt measures what is there then).
  'MODEL_CHANGED',
  'MODEL_UNREADABLE',
  'MODEL_PREDATES_RUN',
  'MODEL_TOO_MANY_FILES',
  'MODEL_TOO_LARGE',
  'STATEMENT_TOO_LARGE',
  'PROVENANCE_CONFLICT',
  // A PipelineRun's child TaskRun is gone, or is not the one Tekton created for it.
  'CHILD_TASKRUN_MISSING',
  'CHILD_NOT_OWNED',
  // The Pod a run's (or a child's) status.podName names exists and is not controlled by that
  // TaskRun's UID (an orphan Tekton adopted, a look-alike): its results are another Pod's.
  'POD_NOT_OWNED',
  // More child runs than limits.pipelineTaskRuns.
  'PIPELINE_TOO_LARGE',
  'FOREIGN_OUTCOME',
  'SIGNING_FAILED',
  // The transparency log (transparency.url) refused, failed or did not answer: retried, nothing written.
  'TLOG_FAILED',
  // Retried; seen in a final reason only inside RETRY_BUDGET_EXHAUSTED or FINALIZER_TIMEOUT.
  'DEADLINE_EXCEEDED',
  'RETRY_BUDGET_EXHAUSTED',
  'FINALIZER_TIMEOUT',
  'INTERNAL',
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** Why a run was skipped: nothing to attest and nothing wrong. */
export const SKIP_CODES = ['NO_BUILD_ARTIFACT', 'NO_MODEL_OUTPUT'] as const;
export type SkipCode = (typeof SKIP_CODES)[number];

export class ReconcileFailure extends Error {
  readonly code: FailureCode;
  readonly retryable: boolean;

  constructor(code: FailureCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ReconcileFailure';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

type LibraryError = { name?: string; code?: unknown; retryable?: unknown };

/** The failure code each library error maps to, and whether to retry it (default: no). */
const BY_ERROR_NAME: Record<string, (e: LibraryError) => { code: FailureCode; retryable?: boolean }> = {
  // NO_OUTPUTS is not a failure; the reconciler records it as skipped before it gets here.
  AttestError: (e) => ({ code: isFailureCode(e.code) ? e.code : 'INTERNAL' }),
  HintError: () => ({ code: 'MALFORMED_HINT' }),
  ProvenanceError: () => ({ code: 'MALFORMED_HINT' }),
  DigestError: (e) => (e.code === 'MODEL_CHANGED' ? { code: 'MODEL_CHANGED', retryable: true } : { code: e.code === 'NOT_FOUND' ? 'MODEL_NOT_FOUND' : 'MODEL_UNREADABLE' }),
  StorageError: (e) => (e.code === 'NOT_FOUND' ? { code: 'MODEL_NOT_FOUND' } : { code: 'MODEL_UNREADABLE', retryable: e.retryable === true }),
  SigningError: (e) => ({ code: String(e.code).startsWith('TLOG_') ? 'TLOG_FAILED' : 'SIGNING_FAILED', retryable: e.retryable === true }),
};

export function toFailure(err: unknown): ReconcileFailure {
  if (err instanceof ReconcileFailure) return err;
  const e = (err ?? {}) as LibraryError & { message?: string };
  const message = e.message ?? String(err);
  const mapped = BY_ERROR_NAME[e.name ?? '']?.(e) ?? { code: 'INTERNAL', retryable: isTransient(err) };
  return new ReconcileFailure(mapped.code, message, { cause: err, retryable: mapped.retryable ?? false });
}

function isFailureCode(code: unknown): code is FailureCode {
  return (FAILURE_CODES as readonly unknown[]).includes(code);
}

function isTransient(err: unknown): boolean {
  if (err instanceof ApiStatusError) return err.code === 429 || err.code === 409 || err.code >= 500;
  const code = (err as { code?: unknown; cause?: { code?: unknown } })?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  // Unknown faults are retried within the time budget rather than failing a run at once.
  return !(err instanceof TypeError || err instanceof RangeError);
}
