// The build service account's OAuth access token, from the metadata server every Cloud Build step
// can reach: what the step presents to the Cloud Build API to read its own build's record.
import { CloudBuildError, fetchFailure } from './errors.ts';

const METADATA_HOST = 'metadata.google.internal';
const TOKEN_PATH = '/computeMetadata/v1/instance/service-accounts/default/token';

/** `metadataHost` is host[:port] (GCE_METADATA_HOST), default the real metadata server. */
export async function metadataAccessToken(metadataHost: string | undefined, signal: AbortSignal): Promise<string> {
  const host = metadataHost || METADATA_HOST;
  const response = await fetch(`http://${host}${TOKEN_PATH}`, { headers: { 'Metadata-Flavor': 'Google' }, signal }).catch((cause: unknown) => {
    throw new CloudBuildError('CLOUD_BUILD_API_UNAVAILABLE', `metadata server ${host} unreachable for an access token: ${fetchFailure(cause)}`, { cause });
  });
  const body = (await response.json().catch(() => undefined)) as { access_token?: unknown } | undefined;
  if (!response.ok || typeof body?.access_token !== 'string' || body.access_token === '') {
    throw new CloudBuildError('CLOUD_BUILD_API_UNAVAILABLE', `metadata server ${host} answered HTTP ${response.status} without an access token`);
  }
  return body.access_token;
}
