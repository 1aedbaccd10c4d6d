// A local stand-in for the two Cloud KMS REST v1 methods our signer calls, speaking exactly what
// @google-cloud/kms sends in REST fallback mode:
//   POST /v1/{name}:asymmetricSign?$alt=json;enum-encoding=int  {"digest":{"sha256":b64},"digestCrc32c":"N"}
//   GET  /v1/{name}/publicKey?$alt=json;enum-encoding=int
// (paths from the google.api.http options in build/protos/google/cloud/kms/v1/service.proto,
// confirmed by logging the client's requests). Int64Value wrappers travel as decimal strings
// and enums as numbers. It holds a real P-256 key, computes real CRC32C fields, and like KMS
// refuses a digestCrc32c that does not match the digest (400 INVALID_ARGUMENT).
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { crc32c } from '../../src/signing/kms/crc32c.ts';
import { signDigest } from './signing-prehashed-ecdsa.ts';

export interface KmsFaults {
  /** Answer asymmetricSign with a signatureCrc32c that does not match the signature. */
  corruptSignatureCrc32c?: boolean;
  /** Flip a signature byte and send the CRC32C of the flipped bytes (corruption inside KMS). */
  corruptSignature?: boolean;
  /** Answer getPublicKey with a wrong pemCrc32c. */
  corruptPemCrc32c?: boolean;
  /** Answer with this resource name instead of the requested one. */
  answerName?: string;
  /** Report verifiedDigestCrc32c false, as a server that ignored the field would. */
  skipDigestVerification?: boolean;
}

export interface KmsRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

export interface KmsStandin {
  /** http://127.0.0.1:PORT, for SignerConfig.apiEndpoint. */
  readonly endpoint: string;
  /** gcpkms://projects/…/cryptoKeyVersions/1 of the key it holds. */
  readonly keyName: string;
  readonly resourceName: string;
  readonly publicKeyPem: string;
  readonly requests: KmsRequestRecord[];
  faults: KmsFaults;
  close(): Promise<void>;
}

const EC_SIGN_P256_SHA256 = 12;
const SOFTWARE = 1;

export async function startKmsStandin(faults: KmsFaults = {}): Promise<KmsStandin> {
  const resourceName = 'projects/slsa-ml-test/locations/global/keyRings/provenance/cryptoKeys/signer/cryptoKeyVersions/1';
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const state = { faults, requests: [] as KmsRequestRecord[] };
  const key: HeldKey = { resourceName, privateKey, publicKeyPem };
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => handle(key, state, req, body, res))
      .catch((err: unknown) => reply(res, 500, errorBody(500, 'INTERNAL', String(err))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    keyName: `gcpkms://${resourceName}`,
    resourceName,
    publicKeyPem,
    requests: state.requests,
    get faults() {
      return state.faults;
    },
    set faults(value: KmsFaults) {
      state.faults = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface HeldKey {
  readonly resourceName: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

interface State {
  faults: KmsFaults;
  readonly requests: KmsRequestRecord[];
}

function handle(key: HeldKey, state: State, req: IncomingMessage, raw: string, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const body: unknown = raw ? JSON.parse(raw) : undefined;
  state.requests.push({ method: req.method ?? '', path, body });
  const call = route(req.method ?? '', path);
  if (!call) return reply(res, 404, errorBody(404, 'NOT_FOUND', `no such method ${req.method} ${path}`));
  if (call.name !== key.resourceName) return reply(res, 404, errorBody(404, 'NOT_FOUND', `CryptoKeyVersion ${call.name} not found.`));
  if (call.method === 'getPublicKey') return reply(res, 200, publicKeyResponse(key, state.faults));
  return asymmetricSign(key, state.faults, body, res);
}

function route(method: string, path: string): { method: 'asymmetricSign' | 'getPublicKey'; name: string } | undefined {
  const sign = /^\/v1\/(.+):asymmetricSign$/.exec(path);
  if (sign?.[1] && method === 'POST') return { method: 'asymmetricSign', name: decodeURIComponent(sign[1]) };
  const publicKey = /^\/v1\/(.+)\/publicKey$/.exec(path);
  if (publicKey?.[1] && method === 'GET') return { method: 'getPublicKey', name: decodeURIComponent(publicKey[1]) };
  return undefined;
}

function publicKeyResponse(key: HeldKey, faults: KmsFaults): object {
  const crc = crc32c(Buffer.from(key.publicKeyPem, 'utf8')) + (faults.corruptPemCrc32c ? 1 : 0);
  return {
    pem: key.publicKeyPem,
    algorithm: EC_SIGN_P256_SHA256,
    pemCrc32c: String(crc),
    name: faults.answerName ?? key.resourceName,
    protectionLevel: SOFTWARE,
  };
}

function asymmetricSign(key: HeldKey, faults: KmsFaults, body: unknown, res: ServerResponse): void {
  const request = (body ?? {}) as { digest?: { sha256?: string }; digestCrc32c?: string };
  const digest = Buffer.from(request.digest?.sha256 ?? '', 'base64');
  if (digest.length !== 32) {
    return reply(res, 400, errorBody(400, 'INVALID_ARGUMENT', 'The provided digest has the wrong length for the algorithm.'));
  }
  const hasCrc = request.digestCrc32c !== undefined;
  if (hasCrc && Number(request.digestCrc32c) !== crc32c(digest)) {
    return reply(res, 400, errorBody(400, 'INVALID_ARGUMENT', 'The checksum in field digest_crc32c did not match the data in field digest.'));
  }
  let signature = signDigest(key.privateKey, digest);
  if (faults.corruptSignature) signature = flipLastByte(signature);
  const crc = crc32c(signature) ^ (faults.corruptSignatureCrc32c ? 1 : 0);
  reply(res, 200, {
    signature: signature.toString('base64'),
    signatureCrc32c: String(crc >>> 0),
    verifiedDigestCrc32c: hasCrc && !faults.skipDigestVerification,
    name: faults.answerName ?? key.resourceName,
    verifiedDataCrc32c: false,
    protectionLevel: SOFTWARE,
  });
}

function flipLastByte(signature: Buffer): Buffer {
  const copy = Buffer.from(signature);
  copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0x01;
  return copy;
}

function errorBody(code: number, status: string, message: string): object {
  return { error: { code, message, status } };
}

function reply(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** sha256 of data, for tests that talk to the stand-in with the raw client. */
export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
