export type LeaderElectionErrorCode = 'INVALID_OPTIONS' | 'LEASE_API';

/** Leader election could not be configured, or the Lease API failed (`status` when HTTP). */
export class LeaderElectionError extends Error {
  readonly code: LeaderElectionErrorCode;
  readonly status: number | undefined;

  constructor(code: LeaderElectionErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, { cause: options?.cause });
    this.name = 'LeaderElectionError';
    this.code = code;
    this.status = options?.status;
  }
}
