// Storage for a command: gs:// through our Cloud Storage client (src/storage/gcs-http.ts;
// Application Default Credentials, or an emulator named by --gcs-endpoint / $SLSA_ML_GCS_ENDPOINT),
// file:// on local disk.
import { createStorage, type Storage } from '../storage/index.ts';
import { UsageError } from './errors.ts';
import type { FlagSpecs, ParsedFlags } from './flags.ts';
import type { CliIo } from './io.ts';

export const STORAGE_FLAGS: FlagSpecs = { 'gcs-endpoint': { type: 'string' } };

export const STORAGE_HELP = `  --gcs-endpoint URL            Cloud Storage API endpoint, e.g. an emulator such as
                                fake-gcs-server (default $SLSA_ML_GCS_ENDPOINT, else Google's)`;

export function storageFromFlags(flags: ParsedFlags, io: CliIo): Storage {
  const fromFlag = flags.strings.get('gcs-endpoint');
  const apiEndpoint = fromFlag ?? (io.env.SLSA_ML_GCS_ENDPOINT || undefined);
  if (apiEndpoint !== undefined) checkEndpoint(fromFlag === undefined ? '$SLSA_ML_GCS_ENDPOINT' : '--gcs-endpoint', apiEndpoint);
  const projectId = io.env.GOOGLE_CLOUD_PROJECT || undefined;
  return createStorage({
    gcs: { ...(apiEndpoint === undefined ? {} : { apiEndpoint }), ...(projectId === undefined ? {} : { projectId }) },
  });
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
