// A local stand-in for the GCE metadata server a Cloud Build step (or a GKE Pod) asks for its
// service account's tokens. Like the real one it answers only requests that carry
// `Metadata-Flavor: Google`. Identity tokens: an audience is required, and the token has Google's
// claims (iss https://accounts.google.com, email and email_verified only with format=full, sub =
// the account's numeric id, aud, azp); it is unsigned: @sigstore/mock's Fulcio reads claims
// without checking a signature; start it with `{ subjectClaim: 'email' }` as real Fulcio uses the
// email. Access tokens: an opaque bearer token (`accessToken`), as JSON like the real server's.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const GOOGLE_ISSUER = 'https://accounts.google.com';

export interface MetadataServerOptions {
  /** The service account the step runs as. */
  readonly email: string;
  /** Its numeric unique id (the token's sub and azp). */
  readonly uniqueId?: string;
}

export interface IdentityRequest {
  readonly audience: string | null;
  readonly format: string | null;
  readonly flavored: boolean;
}

export interface MetadataServer {
  /** host:port, the form GCE_METADATA_HOST takes. */
  readonly host: string;
  /** Identity-token requests, in order. */
  readonly requests: IdentityRequest[];
  /** The access token it hands out; accessRequests counts the requests for it. */
  readonly accessToken: string;
  readonly accessRequests: number;
  close(): Promise<void>;
}

const IDENTITY_PATH = '/computeMetadata/v1/instance/service-accounts/default/identity';
const TOKEN_PATH = '/computeMetadata/v1/instance/service-accounts/default/token';

export async function startMetadataServer(options: MetadataServerOptions): Promise<MetadataServer> {
  const uniqueId = options.uniqueId ?? '104729000000000000001';
  const requests: IdentityRequest[] = [];
  const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
  let accessRequests = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://metadata.google.internal');
    const flavored = req.headers['metadata-flavor'] === 'Google';
    const answer = (status: number, body: string): void => void res.writeHead(status, { 'content-type': 'text/plain', 'metadata-flavor': 'Google' }).end(body);
    if (url.pathname === TOKEN_PATH) {
      accessRequests += 1;
      if (!flavored) return answer(403, 'Missing Metadata-Flavor:Google header.');
      return answer(200, JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }));
    }
    if (url.pathname !== IDENTITY_PATH) return answer(404, 'not found');
    const audience = url.searchParams.get('audience');
    const format = url.searchParams.get('format');
    requests.push({ audience, format, flavored });
    if (!flavored) return answer(403, 'Missing Metadata-Flavor:Google header.');
    if (!audience) return answer(400, 'non-empty audience parameter required');
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, string | number | boolean> = { iss: GOOGLE_ISSUER, sub: uniqueId, azp: uniqueId, aud: audience, iat: now, exp: now + 3600 };
    // Without format=full the real server leaves the email out.
    if (format === 'full') Object.assign(claims, { email: options.email, email_verified: true });
    return answer(200, unsignedJwt(claims));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    accessToken,
    get accessRequests() {
      return accessRequests;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function unsignedJwt(claims: object): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [part({ alg: 'none', typ: 'JWT' }), part(claims), ''].join('.');
}
