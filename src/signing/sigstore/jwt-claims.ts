// The claims of an OIDC identity token, read without checking its signature: the token is
// only ever used as Fulcio will use it, and Fulcio checks the signature before it certifies
// anything. Callers say in their own words what it means that a token has no readable claims.
export type JwtClaims = Readonly<Record<string, unknown>>;

/** The JSON object in the token's payload; undefined when the token is not a JWT with one. */
export function jwtClaims(token: string): JwtClaims | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    if (typeof claims === 'object' && claims !== null && !Array.isArray(claims)) return claims as JwtClaims;
  } catch {
    // not JSON: undefined below
  }
  return undefined;
}
