// Storage for a command: gs:// through our Cloud Storage client (src/storage/gcs-http.ts;
// Application Default Credentials, or an emulator named by --gcs-endpoint / $SLSA_ML_GCS_ENDPOINT),
// file:// on local disk. A command has no backoff of its own, so its gs:// calls are retried: a
// transient 503 must not decide an answer.
import { createStorage, StorageError, type Storage } from '../storage/index.ts';
import { InputError, UsageError } from './errors.ts';
import type { FlagSpecs, ParsedFlags } from './flags.ts';
import type { CliIo } from './io.ts';

export const STORAGE_FLAGS: FlagSpecs = { 'gcs-endpoint': { type: 'string' }, 'gcs-user-project': { type: 'string' } };

export const STORAGE_HELP = `  --gcs-endpoint URL            Cloud Storage API endpoint, e.g. an emulator such as
                                fake-gcs-server (default $SLSA_ML_GCS_ENDPOINT, else Google's)
  --gcs-user-project ID         project billed for Cloud Storage requests, required by Requester
                                Pays buckets (default $SLSA_ML_GCS_USER_PROJECT)`;

/** How long gs:// calls are retried unless $SLSA_ML_GCS_RETRY_SECONDS says otherwise. */
export const DEFAULT_RETRY_SECONDS = 30;
const MAX_RETRY_SECONDS = 3600;

export function storageFromFlags(flags: ParsedFlags, io: CliIo): Storage {
  const fromFlag = flags.strings.get('gcs-endpoint');
  const apiEndpoint = fromFlag ?? (io.env.SLSA_ML_GCS_ENDPOINT || undefined);
  if (apiEndpoint !== undefined) checkEndpoint(fromFlag === undefined ? '$SLSA_ML_GCS_ENDPOINT' : '--gcs-endpoint', apiEndpoint);
  const projectFlag = flags.strings.get('gcs-user-project');
  const userProject = projectFlag ?? (io.env.SLSA_ML_GCS_USER_PROJECT || undefined);
  if (userProject !== undefined) checkProject(projectFlag === undefined ? '$SLSA_ML_GCS_USER_PROJECT' : '--gcs-user-project', userProject);
  const budgetMs = retrySeconds(io.env.SLSA_ML_GCS_RETRY_SECONDS) * 1000;
  return createStorage({
    gcs: { ...(apiEndpoint === undefined ? {} : { apiEndpoint }), ...(userProject === undefined ? {} : { userProject }), proxyEnv: io.env },
    ...(budgetMs > 0 ? { retry: { budgetMs } } : {}),
  });
}

/** $SLSA_ML_GCS_RETRY_SECONDS: seconds to keep retrying a gs:// call (0: one attempt). */
export function retrySeconds(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_RETRY_SECONDS;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > MAX_RETRY_SECONDS) throw new UsageError(`$SLSA_ML_GCS_RETRY_SECONDS ${JSON.stringify(value)}: must be a whole number of seconds from 0 to ${MAX_RETRY_SECONDS}`);
  return n;
}

/**
 * A storage fault worth another try later (429/5xx, reset, deadline) that outlasted the retries: it
 * says nothing about a model or its provenance, so a command reports it as an error (exit 2)
 * instead of a verification that failed.
 */
export function isOutage(err: unknown): err is StorageError {
  return err instanceof StorageError && err.retryable;
}

/** The error a command ends with when `what` could not be answered for an outage. */
export function storageUnavailable(what: string, err: StorageError): InputError {
  return new InputError('STORAGE_UNAVAILABLE', `${what}: storage unavailable, no answer: ${err.message}`, { cause: err });
}

export function checkEndpoint(flag: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(value)}: not a URL (expected e.g. http://127.0.0.1:4443)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag} ${value}: must be an http:// or https:// URL`);
}

// Google project IDs: 6–30 lowercase letters, digits and hyphens; older ones may carry a domain
// ("example.com:proj"). Checked loosely, so a stray flag value is caught without second-guessing Google.
export function checkProject(flag: string, value: string): void {
  if (!/^[a-z0-9][a-z0-9.:-]*[a-z0-9]$/.test(value)) throw new UsageError(`${flag} ${JSON.stringify(value)}: not a Google Cloud project ID (e.g. my-project-123)`);
}
