// Whether, and where, the step reads its build's record from the Cloud Build API:
// $SLSA_ML_CLOUD_BUILD_API is `off` (the environment's word only) or the API's base URL (tests,
// private endpoints); unset means Google's. The service account's access token goes there, so
// only over TLS, or to this machine itself.
import type { CiEnv } from '../platform.ts';
import { CLOUD_BUILD_API } from './build-record.ts';
import { CloudBuildError } from './errors.ts';

export const API_VARIABLE = 'SLSA_ML_CLOUD_BUILD_API';

/** The API's base URL, or undefined when reading it is turned off. */
export function cloudBuildApi(env: CiEnv): string | undefined {
  const value = env[API_VARIABLE];
  if (value === undefined || value === '') return CLOUD_BUILD_API;
  if (value === 'off') return undefined;
  const url = URL.parse(value);
  const loopback = url?.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (!url || (url.protocol !== 'https:' && !loopback)) {
    throw new CloudBuildError('CLOUD_BUILD_VARIABLE_INVALID', `${API_VARIABLE}=${JSON.stringify(value)} is not off or an https:// URL (http:// only to this machine)`);
  }
  // The endpoint is recorded in the provenance, which is published: never a key or a password.
  if ([url.search, url.hash, url.username, url.password].some((part) => part !== '')) {
    throw new CloudBuildError('CLOUD_BUILD_VARIABLE_INVALID', `${API_VARIABLE} must be a base URL without user, password, query or fragment: it is recorded in the provenance`);
  }
  return value;
}
