// The service account a Google identity token names. Fulcio puts the token's `email` claim, and
// nothing else from it, into the certificate (SAN = the email, issuer https://accounts.google.com),
// so the statement records the same email and cannot disagree with its certificate.
import { jwtClaims, type JwtClaims } from '../../signing/sigstore/jwt-claims.ts';
import { CloudBuildError } from './errors.ts';

export const GOOGLE_ISSUER = 'https://accounts.google.com';

export function serviceAccountOf(token: string): string {
  const claims = decode(token);
  const email = claims.email;
  if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) {
    throw new CloudBuildError('CLOUD_BUILD_TOKEN_INVALID', 'the identity token has no email claim: ask the metadata server with format=full (a service account token names its email only then)');
  }
  return email;
}

function decode(token: string): JwtClaims {
  const claims = jwtClaims(token);
  if (!claims) throw new CloudBuildError('CLOUD_BUILD_TOKEN_INVALID', 'the identity token is not a JWT with a JSON payload');
  return claims;
}
