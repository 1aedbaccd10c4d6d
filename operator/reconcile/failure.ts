// Tells a retryable fault from a terminal one. Library errors carry a code and (storage,
// signing) a retryable flag; Kubernetes API errors are judged by status code.
import { ApiException } from '@kubernetes/client-node';

/**
 * Why a run was not signed: one closed vocabulary, the same in the `slsa-ml.dev/reason`
 * annotation, the Event, the `slsa_ml_failures_total{reason}` metric and docs/operator.md.
 */
export const FAILURE_CODES = [
  'MALFORMED_HINT',
  'PREFIX_NOT_ALLOWED',
  'DIGEST_MISMATCH',
  'MODEL_NOT_FOUND',
  'MODEL_UNREADABLE',
  'MODEL_PREDATES_RUN',
  'MODEL_TOO_MANY_FILES',
  'MODEL_TOO_LARGE',
  'STATEMENT_TOO_LARGE',
  'PROVENANCE_CONFLICT',
  'FOREIGN_OUTCOME',
  'SIGNING_FAILED',
  // Retried; seen in a final reason only inside RETRY_BUDGET_EXHAUSTED or FINALIZER_TIMEOUT.
  'DEADLINE_EXCEEDED',
  'RETRY_BUDGET_EXHAUSTED',
  'FINALIZER_TIMEOUT',
  'INTERNAL',
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** Why a run was skipped: nothing to attest and nothing wrong. */
export const SKIP_CODES = ['NO_BUILD_ARTIFACT'] as const;
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

export function toFailure(err: unknown): ReconcileFailure {
  if (err instanceof ReconcileFailure) return err;
  const e = err as { name?: string; code?: unknown; retryable?: unknown; message?: string; cause?: unknown };
  const message = e?.message ?? String(err);
  switch (e?.name) {
    case 'AttestError':
      // NO_OUTPUTS is not a failure; the reconciler records it as skipped before it gets here.
      return new ReconcileFailure(isFailureCode(e.code) ? e.code : 'INTERNAL', message, { cause: err });
    case 'HintError':
    case 'ProvenanceError':
      return new ReconcileFailure('MALFORMED_HINT', message, { cause: err });
    case 'DigestError':
      return new ReconcileFailure(e.code === 'NOT_FOUND' ? 'MODEL_NOT_FOUND' : 'MODEL_UNREADABLE', message, { cause: err });
    case 'StorageError':
      if (e.code === 'NOT_FOUND') return new ReconcileFailure('MODEL_NOT_FOUND', message, { cause: err });
      return new ReconcileFailure('MODEL_UNREADABLE', message, { cause: err, retryable: e.retryable === true });
    case 'SigningError':
      return new ReconcileFailure('SIGNING_FAILED', message, { cause: err, retryable: e.retryable === true });
    default:
      return new ReconcileFailure('INTERNAL', message, { cause: err, retryable: isTransient(err) });
  }
}

function isFailureCode(code: unknown): code is FailureCode {
  return (FAILURE_CODES as readonly unknown[]).includes(code);
}

function isTransient(err: unknown): boolean {
  if (err instanceof ApiException) return err.code === 429 || err.code === 409 || err.code >= 500;
  const code = (err as { code?: unknown; cause?: { code?: unknown } })?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  // Unknown faults are retried within the time budget rather than failing a run at once.
  return !(err instanceof TypeError || err instanceof RangeError);
}
