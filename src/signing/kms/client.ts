// The two Cloud KMS calls we make, with the end-to-end integrity checks Google documents for
// them (CRC32C both ways, resource name echoed back), and failures mapped to SigningError codes.
// KMS responses become our own small types here and nowhere else. Each call is one attempt with a
// deadline: the client library's own retries would take a minute and bury the reason in a chain
// of errors; callers (the operator's backoff) retry what is retryable.
import type { KeyManagementServiceClient } from '@google-cloud/kms';

import { DEFAULT_REQUEST_TIMEOUT_MS } from '../deadline.ts';
import { SigningError } from '../errors.ts';
import { firstCause } from '../first-cause.ts';
import { crc32c } from './crc32c.ts';
import { createKmsTransport } from './transport.ts';

export interface KmsClientOptions {
  /** Deadline of each call, default 30 s. */
  readonly timeoutMs?: number;
}

export interface KmsPublicKey {
  readonly pem: string;
  readonly algorithm: string;
}

type Int64Value = { value?: unknown } | null | undefined;

// gRPC status codes on which Google advises retrying.
const RETRYABLE = new Set([4, 8, 10, 13, 14]);
const CODES: Readonly<Record<number, string>> = { 3: 'KMS_INVALID_ARGUMENT', 5: 'KMS_NOT_FOUND', 7: 'KMS_PERMISSION_DENIED', 16: 'KMS_UNAUTHENTICATED' };

export class KmsClient {
  readonly #client: KeyManagementServiceClient;
  readonly #timeoutMs: number;

  constructor(apiEndpoint?: string, options: KmsClientOptions = {}) {
    this.#client = createKmsTransport(apiEndpoint);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  // A fresh object per call: the client library writes into the options it is given.
  #callOptions(): { timeout: number; retry: null } {
    return { timeout: this.#timeoutMs, retry: null };
  }

  async getPublicKey(name: string): Promise<KmsPublicKey> {
    const [response] = await this.#client.getPublicKey({ name }, this.#callOptions()).catch(rethrow);
    const pem = response.pem ?? '';
    assertName(name, response.name);
    if (!pem || !crcMatches(Buffer.from(pem, 'utf8'), response.pemCrc32c)) {
      throw integrityError('public key PEM does not match its pemCrc32c');
    }
    return { pem, algorithm: String(response.algorithm) };
  }

  /** Signs a SHA-256 digest; returns the DER signature. */
  async asymmetricSign(name: string, sha256: Buffer): Promise<Buffer> {
    const request = { name, digest: { sha256 }, digestCrc32c: { value: crc32c(sha256) } };
    const [response] = await this.#client.asymmetricSign(request, this.#callOptions()).catch(rethrow);
    if (response.verifiedDigestCrc32c !== true) throw integrityError('KMS did not verify the request digestCrc32c');
    assertName(name, response.name);
    const signature = Buffer.from(response.signature ?? new Uint8Array());
    if (signature.length === 0 || !crcMatches(signature, response.signatureCrc32c)) {
      throw integrityError('signature does not match its signatureCrc32c');
    }
    return signature;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

function crcMatches(data: Buffer, field: Int64Value): boolean {
  const value = field?.value;
  return (typeof value === 'string' || typeof value === 'number') && Number(value) === crc32c(data);
}

function assertName(requested: string, returned: string | null | undefined): void {
  if (returned !== requested) {
    throw new SigningError({ code: 'KMS_NAME_MISMATCH', message: `KMS answered for key ${JSON.stringify(returned)}, not ${requested}` });
  }
}

// Google's guidance: a CRC32C mismatch means corruption in transit; retry a limited number of times.
function integrityError(message: string): SigningError {
  return new SigningError({ code: 'KMS_INTEGRITY', message, retryable: true });
}

function rethrow(err: unknown): never {
  const status = (err as { code?: unknown }).code;
  const code = typeof status === 'number' ? (CODES[status] ?? 'KMS_UNAVAILABLE') : 'KMS_UNAVAILABLE';
  const retryable = typeof status !== 'number' || RETRYABLE.has(status);
  throw new SigningError({ code, message: `Cloud KMS call failed: ${firstCause(err)}`, cause: err, retryable });
}
