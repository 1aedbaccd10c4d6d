// Why a Cloud Build step cannot describe its build: the message names the variable, claim or
// service at fault and what to change. Terminal: the same build fails the same way again.
import { firstCause } from '../../signing/first-cause.ts';

export type CloudBuildErrorCode =
  | 'CLOUD_BUILD_VARIABLE_MISSING'
  | 'CLOUD_BUILD_VARIABLE_INVALID'
  | 'CLOUD_BUILD_TOKEN_INVALID'
  // Reading the build's own record from the Cloud Build API.
  | 'CLOUD_BUILD_API_UNAVAILABLE'
  | 'CLOUD_BUILD_API_DENIED'
  | 'CLOUD_BUILD_RECORD_INVALID'
  // The environment tells another story than Cloud Build's record of the build.
  | 'CLOUD_BUILD_RECORD_MISMATCH';

export class CloudBuildError extends Error {
  readonly code: CloudBuildErrorCode;

  constructor(code: CloudBuildErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CloudBuildError';
    this.code = code;
  }
}

/** Why a fetch failed: undici says only "fetch failed" and keeps the reason (ECONNREFUSED …) as its cause. */
export function fetchFailure(err: unknown): string {
  return firstCause(err instanceof Error && err.message === 'fetch failed' && err.cause !== undefined ? err.cause : err);
}
