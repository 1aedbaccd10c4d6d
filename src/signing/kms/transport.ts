// Builds the Cloud KMS client in REST fallback mode (HTTP/1.1 + JSON, no gRPC). An endpoint
// given as http://host:port is a local stand-in: it gets plain HTTP and no credentials, so no
// access token is ever sent in clear text. Anything else uses Application Default Credentials.
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { PassThroughClient } from 'google-auth-library';

export function createKmsTransport(apiEndpoint?: string): KeyManagementServiceClient {
  if (!apiEndpoint) return new KeyManagementServiceClient({ fallback: true });
  const url = new URL(apiEndpoint.includes('://') ? apiEndpoint : `https://${apiEndpoint}`);
  const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  if (url.protocol === 'http:') {
    return new KeyManagementServiceClient({
      fallback: true,
      apiEndpoint: url.hostname,
      port,
      protocol: 'http',
      authClient: new PassThroughClient(),
    });
  }
  return new KeyManagementServiceClient({ fallback: true, apiEndpoint: url.hostname, port });
}
