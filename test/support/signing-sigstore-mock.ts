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

export async function startSigstoreMock(fulcioURL = 'https://fulcio.slsa-ml.test', rekorURL = 'https://rekor.slsa-ml.test'): Promise<SigstoreMock> {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rekorKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(caKeys, ctlog);
  const tlog = await initializeTLog(rekorURL, rekorKeys);
  const fulcio = fulcioHandler(ca, { strict: true });
  const rekor = rekorHandler({ ...tlog, log: (entry: object) => tlog.log(asRekorStoresDsse(entry)) }, { strict: true });
  serve(fulcioURL, fulcio.path, fulcio.fn);
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
export function identityToken(claims: { sub: string; iss?: string; email?: string }): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return [part({ alg: 'none', typ: 'JWT' }), part({ iss: MOCK_ISSUER, aud: 'sigstore', iat: now, exp: now + 600, ...claims }), ''].join('.');
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
