// Reads a provenance file — a Sigstore bundle (.sigstore.json) or a bare DSSE envelope
// (.intoto.jsonl, one JSON line) — into our own types, once. Nothing here is trusted yet.
import { failed, type CheckOutcome } from './result.ts';

export interface EnvelopeSignature {
  readonly keyid: string;
  readonly sig: Buffer;
}

export interface Envelope {
  readonly payload: Buffer;
  readonly payloadType: string;
  readonly signatures: ReadonlyArray<EnvelopeSignature>;
}

export interface ProvenanceDocument {
  readonly envelope: Envelope;
  /** The bundle JSON as read, when the document is a bundle. */
  readonly bundleJson?: Readonly<Record<string, unknown>>;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function parseDocument(input: string | Buffer): ProvenanceDocument | CheckOutcome {
  let json: unknown;
  try {
    json = JSON.parse(input.toString('utf8'));
  } catch {
    // Two envelopes on two lines fail here too: a provenance file holds exactly one.
    return failed('MALFORMED', 'provenance is not one JSON document (a bundle, or an envelope on one line)');
  }
  if (!isObject(json)) return failed('MALFORMED', 'provenance is not a JSON object');
  if (typeof json.mediaType === 'string') {
    const envelope = isObject(json.dsseEnvelope) ? toEnvelope(json.dsseEnvelope) : undefined;
    return envelope ? { envelope, bundleJson: json } : failed('MALFORMED', 'bundle holds no DSSE envelope');
  }
  const envelope = toEnvelope(json);
  return envelope ? { envelope } : failed('MALFORMED', 'not a DSSE envelope: payload, payloadType and signatures[].sig are required');
}

export function isDocument(value: ProvenanceDocument | CheckOutcome): value is ProvenanceDocument {
  return 'envelope' in value;
}

function toEnvelope(json: Record<string, unknown>): Envelope | undefined {
  const { payload, payloadType, signatures } = json;
  if (typeof payload !== 'string' || !BASE64.test(payload) || typeof payloadType !== 'string' || !Array.isArray(signatures)) {
    return undefined;
  }
  const sigs = signatures.map(toSignature);
  if (sigs.some((s) => s === undefined)) return undefined;
  return { payload: Buffer.from(payload, 'base64'), payloadType, signatures: sigs as EnvelopeSignature[] };
}

function toSignature(value: unknown): EnvelopeSignature | undefined {
  if (!isObject(value) || typeof value.sig !== 'string' || !BASE64.test(value.sig)) return undefined;
  const keyid = typeof value.keyid === 'string' ? value.keyid : '';
  return { keyid, sig: Buffer.from(value.sig, 'base64') };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
