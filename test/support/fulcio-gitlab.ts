// Fulcio's gitlab-pipeline CI provider, for the @sigstore/mock CA: checks the job's ID token as
// Fulcio does (RS256 signature against the issuer's JWKS, issuer, audience sigstore, expiry), then
// issues a certificate whose SAN and 1.3.6.1.4.1.57264.1.x extensions are formed from the claims
// by the templates of Fulcio's config/identity/config.yaml (gitlab-pipeline). The mock's own
// handler copies one claim into the SAN and writes GitHub-shaped extensions, which GitLab tokens
// would fill wrongly (its ref is "main", not refs/heads/main).
import type { HandlerFn, initializeCA } from '@sigstore/mock';

type CA = Awaited<ReturnType<typeof initializeCA>>;

import { verifiedClaims, type GitlabOidc } from './gitlab-oidc.ts';

/** Fulcio's default template value `url` (GitLab tokens carry no `url` claim). */
const DEFAULT_URL = 'https://gitlab.com';

const OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  issuerV2: '1.3.6.1.4.1.57264.1.8',
  buildSignerURI: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryURI: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerURI: '1.3.6.1.4.1.57264.1.16',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigURI: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationURI: '1.3.6.1.4.1.57264.1.21',
  sourceRepositoryVisibility: '1.3.6.1.4.1.57264.1.22',
  deploymentEnvironment: '1.3.6.1.4.1.57264.1.23',
} as const;

export interface GitlabFulcioOptions {
  readonly oidc: GitlabOidc;
  /** Issuers this Fulcio accepts GitLab tokens from (default https://gitlab.com). */
  readonly issuers?: readonly string[];
}

export function gitlabFulcioHandler(ca: CA, options: GitlabFulcioOptions): HandlerFn {
  const issuers = options.issuers ?? [DEFAULT_URL];
  return async (body) => {
    try {
      const request = JSON.parse(body.toString()) as { credentials?: { oidcIdentityToken?: string }; publicKeyRequest?: { publicKey?: { content?: string } } };
      const claims = verifiedClaims(request.credentials?.oidcIdentityToken ?? '', options.oidc.jwks);
      if (!claims) return { statusCode: 401, response: 'the identity token does not verify against the issuer\'s JWKS' };
      const refused = refusal(claims, issuers);
      if (refused) return { statusCode: 401, response: refused };
      const pem = request.publicKeyRequest?.publicKey?.content ?? '';
      const { subjectAltName, extensions } = gitlabCertificate(claims);
      const leaf = await ca.issueCertificate({ publicKey: fromPem(pem), subjectAltName, extensions });
      const chain = [toPem(leaf), toPem(ca.rootCertificate)];
      return { statusCode: 201, response: JSON.stringify({ signedCertificateEmbeddedSct: { chain: { certificates: chain } } }), contentType: 'application/json' };
    } catch (err) {
      return { statusCode: 400, response: (err as Error).message };
    }
  };
}

function refusal(claims: Record<string, unknown>, issuers: readonly string[]): string | undefined {
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!issuers.includes(String(claims.iss))) return `issuer ${String(claims.iss)} is not configured`;
  if (!audience.includes('sigstore')) return 'the token\'s audience is not sigstore';
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return 'the token has expired';
  return undefined;
}

/** The SAN and extensions, as Fulcio's templates make them; a claim a template names but the token lacks is an error, as in Fulcio. */
export function gitlabCertificate(claims: Record<string, unknown>): { subjectAltName: string; extensions: Array<{ oid: string; value: string; legacy?: boolean }> } {
  const value = (name: string): string => {
    const v = claims[name];
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string' || v === '') throw new Error(`value <${name}> not present in either claims or defaults`);
    return v;
  };
  const url = typeof claims.url === 'string' ? claims.url : DEFAULT_URL;
  const config = `https://${value('ci_config_ref_uri')}`;
  const iss = value('iss');
  const extensions: Array<{ oid: string; value: string; legacy?: boolean }> = [
    { oid: OID.issuerV1, value: iss, legacy: true },
    { oid: OID.issuerV2, value: iss },
    { oid: OID.buildSignerURI, value: config },
    { oid: OID.buildSignerDigest, value: value('ci_config_sha') },
    { oid: OID.runnerEnvironment, value: value('runner_environment') },
    { oid: OID.sourceRepositoryURI, value: `${url}/${value('project_path')}` },
    { oid: OID.sourceRepositoryDigest, value: value('sha') },
    { oid: OID.sourceRepositoryRef, value: `refs/${value('ref_type') === 'branch' ? 'heads/' : 'tags/'}${value('ref')}` },
    { oid: OID.sourceRepositoryIdentifier, value: value('project_id') },
    { oid: OID.sourceRepositoryOwnerURI, value: `${url}/${value('namespace_path')}` },
    { oid: OID.sourceRepositoryOwnerIdentifier, value: value('namespace_id') },
    { oid: OID.buildConfigURI, value: config },
    { oid: OID.buildConfigDigest, value: value('ci_config_sha') },
    { oid: OID.buildTrigger, value: value('pipeline_source') },
    { oid: OID.runInvocationURI, value: `${url}/${value('project_path')}/-/jobs/${value('job_id')}` },
    { oid: OID.sourceRepositoryVisibility, value: value('project_visibility') },
  ];
  // The optional environment claim: Fulcio's default is empty, and an empty extension is left out.
  if (typeof claims.environment === 'string' && claims.environment !== '') extensions.push({ oid: OID.deploymentEnvironment, value: claims.environment });
  return { subjectAltName: config, extensions };
}

function fromPem(pem: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

// As Go's pem.Encode writes it (64 columns), which real Fulcio answers with.
function toPem(der: ArrayBufferView): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${base64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
}
