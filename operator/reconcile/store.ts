// Puts the two provenance objects next to a model, create-only, without ever trusting what the
// training pod could have written there. Both names are inspected before anything is written:
// an existing object counts only if it verifies with the operator's own key (or keyless
// identity) and attests this TaskRun's UID and this model's digest — the trace of our own earlier
// attempt. The bundle (.sigstore.json) is the provenance of record; the envelope line
// (.intoto.jsonl) is derived from it.
//
//   bundle slot    envelope slot           result
//   empty / ours   empty / same signature  write what is missing; signed
//   ours           anything else           signed, with a warning naming the envelope
//   empty          ours                    write the bundle; signed
//   empty          not ours                PROVENANCE_CONFLICT, nothing written
//   not ours       anything                PROVENANCE_CONFLICT, nothing written
// A slot taken between the inspection and our write is judged the same way when the write
// returns 412: a foreign bundle fails the run, a foreign envelope only warns.
import { provenanceLocations, type ProvenanceLocations } from '../../src/layout/index.ts';
import type { SignedProvenance } from '../../src/signing/index.ts';
import { StorageError, type Storage } from '../../src/storage/index.ts';
import { failed, passed, verifyProvenance, type SignatureVerifier, type StatementCheck } from '../../src/verify/index.ts';
import { ReconcileFailure } from './failure.ts';

export interface StoreContext {
  readonly storage: Storage;
  /** Verifies our own signatures; undefined when nothing stored can be shown to be ours. */
  readonly ownVerifier: SignatureVerifier | undefined;
  /** Largest provenance object read back or inspected. */
  readonly maxBytes: number;
}

export interface Expectation {
  readonly invocationId: string;
  readonly sha256: string;
}

type Slot = { readonly state: 'empty' } | { readonly state: 'ours'; readonly content: string } | { readonly state: 'foreign'; readonly why: string };

export interface InspectedSlots {
  readonly loc: ProvenanceLocations;
  readonly bundle: Slot;
  readonly envelope: Slot;
}

export interface Stored {
  readonly bundle: string;
  readonly warning?: string;
}

/** What both names hold before anything is written; refuses when the bundle cannot become ours. */
export async function inspectSlots(ctx: StoreContext, modelUri: string, expect: Expectation): Promise<InspectedSlots> {
  const loc = provenanceLocations(modelUri);
  const [bundle, envelope] = await Promise.all([inspect(ctx, loc.bundle, expect), inspect(ctx, loc.envelope, expect)]);
  if (bundle.state === 'foreign') throw conflict(loc.bundle, bundle.why);
  if (bundle.state === 'empty' && envelope.state === 'foreign') throw conflict(loc.envelope, envelope.why);
  return { loc, bundle, envelope };
}

/** True when nothing needs signing: our bundle is already stored. */
export function hasOurBundle(slots: InspectedSlots): boolean {
  return slots.bundle.state === 'ours';
}

/** Writes what is missing (signed: a fresh signature, needed only when the bundle slot is empty). */
export async function writeSlots(ctx: StoreContext, slots: InspectedSlots, signed: SignedProvenance | undefined, expect: Expectation): Promise<Stored> {
  const { loc } = slots;
  let bundleJson: string;
  if (slots.bundle.state === 'ours') {
    bundleJson = slots.bundle.content;
  } else {
    if (!signed) throw new ReconcileFailure('INTERNAL', `no signature to write to ${loc.bundle}`);
    bundleJson = await createOrAdopt(ctx, loc.bundle, signed.bundleJson, expect);
  }
  const line = envelopeLine(bundleJson, loc.bundle);
  const envelope = slots.envelope;
  // Ours: the same signature, or an earlier one of ours whose bundle was lost; both verify.
  if (envelope.state === 'ours') return { bundle: loc.bundle };
  if (envelope.state === 'foreign') return { bundle: loc.bundle, warning: foreignEnvelope(loc, envelope.why) };
  const stored = await createOrRead(ctx, loc.envelope, line, 'application/jsonl', expect);
  return stored.state === 'foreign' ? { bundle: loc.bundle, warning: foreignEnvelope(loc, stored.why) } : { bundle: loc.bundle };
}

async function inspect(ctx: StoreContext, uri: string, expect: Expectation): Promise<Slot> {
  const read = await readSlot(ctx, uri);
  if ('absent' in read) return { state: 'empty' };
  return 'tooLarge' in read ? tooLarge(ctx) : judge(ctx, uri, read.content, expect);
}

function tooLarge(ctx: StoreContext): Exclude<Slot, { state: 'empty' }> {
  return { state: 'foreign', why: `it is larger than ${ctx.maxBytes} bytes` };
}

async function createOrAdopt(ctx: StoreContext, uri: string, content: string, expect: Expectation): Promise<string> {
  const stored = await createOrRead(ctx, uri, content, 'application/json', expect);
  if (stored.state === 'foreign') throw conflict(uri, stored.why);
  return stored.content;
}

/**
 * Creates the object, then reads back whatever the name holds now: our bytes, or — when someone
 * wrote the name between our inspection and our write — their object, judged like any other.
 */
async function createOrRead(ctx: StoreContext, uri: string, content: string, contentType: string, expect: Expectation): Promise<Exclude<Slot, { state: 'empty' }>> {
  try {
    await ctx.storage.createOnly(uri, Buffer.from(content), contentType);
  } catch (err) {
    if (!(err instanceof StorageError) || err.code !== 'ALREADY_EXISTS') throw err;
  }
  const read = await readSlot(ctx, uri);
  if ('absent' in read) throw new StorageError('UNAVAILABLE', `${uri} was written but cannot be read back`, { retryable: true });
  if ('tooLarge' in read) return tooLarge(ctx);
  return read.content === content ? { state: 'ours', content } : judge(ctx, uri, read.content, expect);
}

type Read = { readonly content: string } | { readonly absent: true } | { readonly tooLarge: true };

async function readSlot(ctx: StoreContext, uri: string): Promise<Read> {
  try {
    return { content: (await ctx.storage.read(uri, ctx.maxBytes)).toString('utf8') };
  } catch (err) {
    if (err instanceof StorageError && err.code === 'NOT_FOUND') return { absent: true };
    if (err instanceof StorageError && err.code === 'TOO_LARGE') return { tooLarge: true };
    throw err;
  }
}

async function judge(ctx: StoreContext, uri: string, content: string, expect: Expectation): Promise<Exclude<Slot, { state: 'empty' }>> {
  if (!ctx.ownVerifier) return { state: 'foreign', why: 'this signer has no verification identity configured, so no existing object can be shown to be ours' };
  const result = await verifyProvenance({
    provenance: content,
    trust: ctx.ownVerifier,
    artifact: { sha256: expect.sha256 },
    policies: [sameRun(expect.invocationId)],
  });
  if (result.ok) return { state: 'ours', content };
  const first = result.checks.find((c) => !c.ok);
  return { state: 'foreign', why: first ? `${first.name} check failed: ${first.code ?? ''} ${first.reason ?? ''}`.trim() : 'it does not verify' };
}

function sameRun(invocationId: string): StatementCheck {
  return {
    name: 'invocationId',
    evaluate: (statement) => {
      const got = (statement.predicate as { runDetails?: { metadata?: { invocationId?: unknown } } } | undefined)?.runDetails?.metadata?.invocationId;
      return got === invocationId ? passed() : failed('OTHER_RUN', `it attests run ${JSON.stringify(got)}, not ${invocationId}`);
    },
  };
}

function envelopeLine(bundleJson: string, uri: string): string {
  const bundle = JSON.parse(bundleJson) as { dsseEnvelope?: unknown };
  if (!bundle.dsseEnvelope) throw conflict(uri, 'it is not a DSSE bundle');
  return `${JSON.stringify(bundle.dsseEnvelope)}\n`;
}

function conflict(uri: string, why: string): ReconcileFailure {
  return new ReconcileFailure('PROVENANCE_CONFLICT', `${uri} already exists and is not this run's provenance from this operator (${why}); it was left untouched`);
}

function foreignEnvelope(loc: ProvenanceLocations, why: string): string {
  return `${loc.envelope} holds an object this operator did not write (${why}); it was left untouched — use ${loc.bundle}`;
}
