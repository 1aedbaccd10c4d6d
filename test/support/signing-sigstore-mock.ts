// Fulcio, its CT log and Rekor from @sigstore/mock, served through nock, plus the trusted root
// (trusted_root.json form) that makes their certificates and log entries verifiable. The mock's
// own mockFulcio/mockRekor hide the CA and log keys, so we assemble the same parts ourselves.
import { createHash, generateKeyPairSync } from 'node:crypto';

import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler, type HandlerFn } from '@sigstore/mock';
import nock from 'nock';

export interface SigstoreMock {
  readonly fulcioURL: string;
  readonly rekorURL: string;
  /** trusted_root.json contents trusting exactly this mock's CA, CT log and Rekor. */
  readonly trustedRoot: Record<string, unknown>;
}

export const MOCK_ISSUER = 'https://oidc.slsa-ml.test';

export interface SigstoreMockOptions {
  readonly fulcioURL?: string;
  readonly rekorURL?: string;
  /** The token claim Fulcio copies, verbatim, into the certificate's SAN (default `sub`); GITHUB_SAN_CLAIM for githubActionsToken. */
  readonly subjectClaim?: string;
  /** Fulcio's own handler for a CI provider, around the mock's CA (e.g. gitlabFulcioHandler); default the mock's. */
  readonly fulcio?: (ca: Awaited<ReturnType<typeof initializeCA>>) => HandlerFn;
}

/** `startSigstoreMock(fulcioURL?, rekorURL?)` or `startSigstoreMock({ fulcioURL?, rekorURL?, subjectClaim? })`. */
export async function startSigstoreMock(options?: string | SigstoreMockOptions, rekorURLArg?: string): Promise<SigstoreMock> {
  const opts: SigstoreMockOptions = typeof options === 'string' ? { fulcioURL: options } : (options ?? {});
  const fulcioURL = opts.fulcioURL ?? 'https://fulcio.slsa-ml.test';
  const rekorURL = rekorURLArg ?? opts.rekorURL ?? 'https://rekor.slsa-ml.test';
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rekorKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(caKeys, ctlog);
  const tlog = await initializeTLog(rekorURL, rekorKeys);
  const fulcio = fulcioHandler(ca, { strict: true, ...(opts.subjectClaim ? { subjectClaim: opts.subjectClaim } : {}) });
  const rekor = rekorHandler({ ...tlog, log: (entry: object) => tlog.log(asRekorStoresDsse(entry)) }, { strict: true });
  serve(fulcioURL, fulcio.path, opts.fulcio ? opts.fulcio(ca) : asFulcioWrapsPem(fulcio.fn));
  serve(rekorURL, rekor.path, rekor.fn);
  const ctPublicKey = ctKeys.publicKey.export({ format: 'der', type: 'spki' });
  return {
    fulcioURL,
    rekorURL,
    trustedRoot: {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      certificateAuthorities: [
        {
          subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
          uri: fulcioURL,
          certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer).toString('base64') }] },
          validFor: { start: '2020-01-01T00:00:00Z' },
        },
      ],
      tlogs: [logEntry(rekorURL, tlog.publicKey)],
      ctlogs: [logEntry('https://ctfe.slsa-ml.test', ctPublicKey)],
      timestampAuthorities: [],
    },
  };
}

export function stopSigstoreMock(): void {
  nock.cleanAll();
}

/** An unsigned JWT: the mock Fulcio reads the claims without checking a signature. */
export function identityToken(claims: { sub: string; iss?: string; email?: string; readonly [claim: string]: string | undefined }): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return [part({ alg: 'none', typ: 'JWT' }), part({ iss: MOCK_ISSUER, aud: 'sigstore', iat: now, exp: now + 600, ...claims }), ''].join('.');
}

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * Real Fulcio makes the SAN of a GitHub Actions certificate from `job_workflow_ref` (with
 * https://github.com/ in front); the mock copies one claim verbatim, so the token carries that
 * URI in a claim of its own. Start the mock with `{ subjectClaim: GITHUB_SAN_CLAIM }`.
 */
export const GITHUB_SAN_CLAIM = 'slsa_ml_test_san';

/** The claims of a GitHub Actions OIDC token for a push to acme/models main, calling slsa-ml's reusable workflow at v1. */
export const GITHUB_CLAIMS = {
  iss: GITHUB_ACTIONS_ISSUER,
  sub: 'repo:acme/models:ref:refs/heads/main',
  repository: 'acme/models',
  repository_id: '4242',
  repository_owner: 'acme',
  repository_owner_id: '4200',
  ref: 'refs/heads/main',
  sha: '1f0a9e3c5b7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f',
  event_name: 'push',
  workflow_ref: 'acme/models/.github/workflows/train.yml@refs/heads/main',
  workflow_sha: '1f0a9e3c5b7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f',
  job_workflow_ref: 'slsa-ml/slsa-ml/.github/workflows/provenance.yml@refs/tags/v1',
  job_workflow_sha: '9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b',
  run_id: '123',
  run_attempt: '1',
  runner_environment: 'github-hosted',
} as const;

export type GithubClaims = { readonly [K in keyof typeof GITHUB_CLAIMS]: string };

/** A GitHub Actions-shaped token (GITHUB_CLAIMS with overrides); its SAN claim follows job_workflow_ref. */
export function githubActionsToken(overrides: Partial<GithubClaims> = {}): string {
  const claims: GithubClaims = { ...GITHUB_CLAIMS, ...overrides };
  return identityToken({ ...claims, [GITHUB_SAN_CLAIM]: `https://github.com/${claims.job_workflow_ref}` });
}

function logEntry(baseUrl: string, publicKey: Buffer): Record<string, unknown> {
  return {
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: publicKey.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
    logId: { keyId: createHash('sha256').update(publicKey).digest('base64') },
  };
}

// Rekor stores a proposed `dsse` entry (envelope + verifiers) as hashes and signatures; the mock
// logs the proposal verbatim, which no verifier accepts. Do what Rekor's dsse v0.0.1 type does.
function asRekorStoresDsse(entry: object): object {
  const proposal = entry as { kind?: string; spec?: { proposedContent?: { envelope: string; verifiers: string[] } } };
  const content = proposal.spec?.proposedContent;
  if (proposal.kind !== 'dsse' || !content) return entry;
  const envelope = JSON.parse(content.envelope) as { payload: string; signatures: Array<{ sig: string }> };
  const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(content.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((s, i) => ({ signature: s.sig, verifier: content.verifiers[i] ?? content.verifiers[0] })),
    },
  };
}

// Real Fulcio writes PEM as Go's pem.Encode does, 64 base64 characters a line; the mock puts the
// whole certificate on one line. Rekor's dsse entry records the certificate PEM the client sent,
// and sigstore-python (model_signing verify sigstore) compares it with the certificate it re-encodes
// in 64-column PEM: so the stand-in answers in real Fulcio's layout.
function asFulcioWrapsPem(handler: HandlerFn): HandlerFn {
  return async (request) => {
    const result = await handler(request);
    if (result.statusCode !== 201 || typeof result.response !== 'string') return result;
    const body = JSON.parse(result.response) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } };
    const chain = body.signedCertificateEmbeddedSct.chain;
    chain.certificates = chain.certificates.map((pem) => pem.replace(/^[A-Za-z0-9+/=]{65,}$/m, (line) => line.match(/.{1,64}/g)?.join('\n') ?? line));
    return { ...result, response: JSON.stringify(body) };
  };
}

function serve(baseURL: string, path: string, handler: HandlerFn): void {
  nock(baseURL)
    .persist()
    .post(path)
    // This nock hands a one-parameter reply function the fetch Request (two parameters would
    // mean callback style), so the body is read from it.
    .reply(async (request: Request) => {
      const { statusCode, response, contentType } = await handler(await request.text());
      return [statusCode, response, { 'Content-Type': contentType ?? 'text/plain' }];
    });
}
