// Logs a key or KMS signature in a Rekor v2 transparency log (rekor-tiles) before anything is
// written, and hands back the entry the bundle carries: its inclusion proof and the checkpoint that
// signs the tree it is in. @sigstore/sign's Rekor v2 witness cannot serve here: it sends a `dsse`
// entry, which rekor-tiles refuses since v2.3.0 (and sigstore-go cannot read), and presents every
// key as a certificate. What Rekor v2 takes for a DSSE envelope is a `hashedrekord` v0.0.2 entry
// over the envelope's pre-authentication encoding: its SHA-256, the DSSE signature, the key — the
// entry cosign, sigstore-go and @sigstore/verify rebuild from the bundle to check the proof.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import type { SignatureBundle, Witness } from '@sigstore/sign';

import { withDeadline } from '../deadline.ts';
import { SigningError } from '../errors.ts';
import { preAuthEncoding } from '../pae.ts';

export interface RekorV2WitnessOptions {
  /** The log's base URL (`https://log2025-1.rekor.sigstore.dev`, or a private instance). */
  readonly url: string;
  /** Deadline of each request; Rekor v2 answers once a checkpoint covers the entry (~1 s or more). */
  readonly timeoutMs: number;
  /** Attempts for a 5xx, a 429 or a connection error (at least 1). */
  readonly attempts?: number;
}

type Transparency = Awaited<ReturnType<Witness['testify']>>;
type BundleEntry = NonNullable<Transparency['tlogEntries']>[number];

const KEY_DETAILS_P256 = 'PKIX_ECDSA_P256_SHA_256';
/** The most a 429/503 `Retry-After` may delay one attempt: a worker never waits on a log for long. */
const MAX_RETRY_AFTER_MS = 10_000;

export class RekorV2Witness implements Witness {
  readonly #endpoint: string;
  readonly #timeoutMs: number;
  readonly #attempts: number;

  constructor(options: RekorV2WitnessOptions) {
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/api/v2/log/entries`;
    this.#timeoutMs = options.timeoutMs;
    this.#attempts = Math.max(1, options.attempts ?? 3);
  }

  async testify(content: SignatureBundle, publicKey: string): Promise<Transparency> {
    if (content.$case !== 'dsseEnvelope') {
      throw new SigningError({ code: 'TLOG_UNSUPPORTED', message: 'the transparency log takes DSSE signatures only here (a bare message signature is never made)' });
    }
    const envelope = content.dsseEnvelope;
    const signature = envelope.signatures[0];
    if (envelope.signatures.length !== 1 || !signature) {
      throw new SigningError({ code: 'TLOG_UNSUPPORTED', message: `a DSSE envelope with ${envelope.signatures.length} signatures cannot be logged as one entry` });
    }
    const pae = preAuthEncoding(envelope.payloadType, envelope.payload);
    const body = JSON.stringify({
      hashedRekordRequestV002: {
        digest: createHash('sha256').update(pae).digest('base64'),
        signature: { content: signature.sig.toString('base64'), verifier: verifier(publicKey) },
      },
    });
    return { tlogEntries: [await this.#create(body)] };
  }

  async #create(body: string): Promise<BundleEntry> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.#post(body);
      if (answer.ok) return answer.entry;
      if (!answer.error.retryable || attempt >= this.#attempts || answer.afterTimeout) throw answer.error;
      await sleep(answer.retryAfterMs ?? 250 * 2 ** (attempt - 1));
    }
  }

  async #post(body: string): Promise<
    | { ok: true; entry: BundleEntry }
    | { ok: false; error: SigningError; retryAfterMs?: number; afterTimeout?: boolean }
  > {
    try {
      return await withDeadline(async (signal) => {
        const res = await fetch(this.#endpoint, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body, signal });
        const text = await res.text();
        if (res.status === 201 || res.status === 200) return { ok: true as const, entry: parseEntry(text, this.#endpoint) };
        return { ok: false as const, error: httpError(this.#endpoint, res.status, text, res.headers.get('x-log-index')), retryAfterMs: retryAfter(res.headers.get('retry-after')) };
      }, this.#timeoutMs, { code: 'TLOG_TIMEOUT', what: `the transparency log ${this.#endpoint}` });
    } catch (err) {
      if (err instanceof SigningError) {
        // The entry may have been made all the same: sending the same body again would be refused as
        // a duplicate (409) without its proof. The caller signs again instead (a new entry).
        return { ok: false, error: err, afterTimeout: err.code === 'TLOG_TIMEOUT' };
      }
      return { ok: false, error: new SigningError({ code: 'TLOG_UNAVAILABLE', message: `the transparency log ${this.#endpoint} could not be reached: ${(err as Error).message}`, cause: err, retryable: true }) };
    }
  }
}

/** The key as Rekor v2 names a verifier: PKIX DER for a key, DER for a certificate. Our signers sign with P-256 only. */
function verifier(publicKey: string): Record<string, unknown> {
  if (/-----BEGIN CERTIFICATE-----/.test(publicKey)) {
    const der = Buffer.from(publicKey.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''), 'base64');
    return { x509Certificate: { rawBytes: der.toString('base64') }, keyDetails: KEY_DETAILS_P256 };
  }
  const key = publicKeyObject(publicKey);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SigningError({ code: 'TLOG_UNSUPPORTED', message: `only ECDSA P-256 signatures are logged (the key is ${key.asymmetricKeyType ?? 'unknown'} ${key.asymmetricKeyDetails?.namedCurve ?? ''})`.trimEnd() });
  }
  return { publicKey: { rawBytes: key.export({ type: 'spki', format: 'der' }).toString('base64') }, keyDetails: KEY_DETAILS_P256 };
}

function publicKeyObject(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (cause) {
    throw new SigningError({ code: 'TLOG_UNSUPPORTED', message: 'the signing key\'s public half is not a PEM public key', cause });
  }
}

/** What the log answered, checked for what a bundle needs: an entry of the kind sent, its proof and checkpoint. */
function parseEntry(text: string, endpoint: string): BundleEntry {
  const entry = entryFromJson(text, endpoint);
  const { kindVersion, logId } = entry;
  if (kindVersion?.kind !== 'hashedrekord' || kindVersion.version !== '0.0.2') throw badEntry(endpoint, `kind ${JSON.stringify(kindVersion ?? null)}, not hashedrekord 0.0.2`);
  if (!logId || logId.keyId.length === 0) throw badEntry(endpoint, 'no logId');
  const missing = [!entry.inclusionProof?.checkpoint?.envelope && 'an inclusion proof with a checkpoint', entry.canonicalizedBody.length === 0 && 'canonicalizedBody'].filter(Boolean);
  if (missing.length > 0) throw badEntry(endpoint, `no ${missing.join(', no ')}`);
  return { ...entry, logId, kindVersion };
}

function entryFromJson(text: string, endpoint: string): TransparencyLogEntry {
  try {
    return TransparencyLogEntry.fromJSON(JSON.parse(text));
  } catch (cause) {
    throw badEntry(endpoint, `not JSON (${(cause as Error).message})`);
  }
}

function badEntry(endpoint: string, why: string): SigningError {
  return new SigningError({ code: 'TLOG_BAD_RESPONSE', message: `the transparency log ${endpoint} answered with an unusable entry: ${why}`, retryable: true });
}

function httpError(endpoint: string, status: number, text: string, logIndex: string | null): SigningError {
  const detail = text.trim().slice(0, 300);
  if (status === 409) {
    // The same signature is already logged, without its proof in this answer: signing again gives a new signature and entry.
    return new SigningError({ code: 'TLOG_CONFLICT', message: `the transparency log ${endpoint} already holds this signature${logIndex ? ` (index ${logIndex})` : ''}: ${detail}`, retryable: true });
  }
  const retryable = status === 429 || status >= 500;
  return new SigningError({ code: retryable ? 'TLOG_UNAVAILABLE' : 'TLOG_REFUSED', message: `the transparency log ${endpoint} answered ${status}: ${detail}`, retryable });
}

function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}
