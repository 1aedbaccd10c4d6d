// Puts the objects next to a model, create-only, without ever trusting what the training pod
// could have written there. Every name is inspected before anything is written: an existing
// provenance object counts only if it verifies with the operator's own key (or keyless identity)
// and attests this TaskRun's UID and this model's digest — the trace of our own earlier attempt;
// an existing model-signing signature only if it verifies with our key and lists exactly this
// model's files and digests (signature-slot.ts). The bundle (.sigstore.json) is the provenance of
// record; the envelope line (.intoto.jsonl) is derived from it; the signature (.sig) is written
// last, only while the bundle is ours.
//
//   bundle    envelope                signature (.sig)   result
//   empty/ours empty / same signature empty / ours       write what is missing; signed
//   ours      anything else           —                  signed, with a warning naming the envelope
//   ours      —                       not ours           signed, with a warning naming the signature
//   empty     ours                    empty / ours       write the bundle (and the signature); signed
//   empty     not ours                anything           PROVENANCE_CONFLICT, nothing written
//   empty     anything                not ours           PROVENANCE_CONFLICT, nothing written
//   not ours  anything                anything           PROVENANCE_CONFLICT, nothing written
// So a run recorded failed never has a verifiable object of ours next to its model. A slot taken
// between the inspection and our write is judged the same way when the write returns 412: a
// foreign bundle fails the run, a foreign envelope or signature (the bundle is stored) only warns.
// With `modelSignature` off the signature name is neither inspected nor written. Other names beside
// the model (verification summaries, summaries.ts) are inspected in the same request and judged by
// their own rules; they never decide the outcome.
import { provenanceLocations, type ProvenanceLocations } from '../../src/layout/index.ts';
import type { Measured } from '../../src/model-signing/index.ts';
import type { SignedProvenance } from '../../src/signing/index.ts';
import type { SignatureVerifier, StatementCheck } from '../../src/verify/index.ts';
import { ReconcileFailure } from './failure.ts';
import { modelSignatureJudge } from './signature-slot.ts';
import { createOrRead, inspectSlotsAt, type Judge, type Slot, type SlotStore } from './slot-io.ts';

export interface StoreContext extends SlotStore {
  /** Verifies our own signatures; undefined when nothing stored can be shown to be ours. */
  readonly ownVerifier: SignatureVerifier | undefined;
  /** Also write (and so inspect) the model-signing signature `<model>.sig`. */
  readonly modelSignature: boolean;
}

export interface Expectation {
  readonly invocationId: string;
  /**
   * Other runs whose provenance of ours also counts as this run's: a PipelineRun's own child
   * TaskRuns (a model attested at the TaskRun level before PipelineRuns were attested, by this
   * operator's key: still one provenance per model, which ever level wrote it).
   */
  readonly alsoRuns?: readonly string[];
  /** The one measurement both the provenance and the model signature describe. */
  readonly measured: Measured;
}

export interface InspectedSlots {
  readonly loc: ProvenanceLocations;
  readonly bundle: Slot;
  readonly envelope: Slot;
  /** Absent when model signatures are off. */
  readonly signature?: Slot;
  /** The other names inspected with these (verification summaries), in the order given. */
  readonly others: readonly Slot[];
}

/** What is about to be written where a slot is empty. */
export interface Signed {
  readonly provenance?: SignedProvenance;
  /** The `.sig` bundle JSON. */
  readonly modelSignature?: string;
}

export interface Stored {
  readonly bundle: string;
  /** The bundle of record's contents: what was written, or what was verified as ours. */
  readonly bundleJson: string;
  /** The model signature next to the model, ours (written now or adopted). */
  readonly signature?: string;
  readonly warnings: string[];
}

/**
 * What every name holds before anything is written; refuses when the bundle cannot become ours.
 * `others`: more names beside the model to inspect in the same request, each with its judge.
 */
export async function inspectSlots(ctx: StoreContext, modelUri: string, expect: Expectation, others: ReadonlyArray<{ uri: string; judge: Judge }> = []): Promise<InspectedSlots> {
  const loc = provenanceLocations(modelUri);
  const provenance = provenanceJudge(ctx, expect);
  const own = [
    { uri: loc.bundle, judge: provenance },
    { uri: loc.envelope, judge: provenance },
    ...(ctx.modelSignature ? [{ uri: loc.signature, judge: modelSignatureJudge(ctx.ownVerifier, expect.measured) }] : []),
  ];
  const found = await inspectSlotsAt(ctx, [...own, ...others]);
  const [bundle, envelope, signature] = found.slice(0, own.length) as [Slot, Slot, Slot | undefined];
  if (bundle.state === 'foreign') throw conflict(loc.bundle, bundle.why);
  if (bundle.state === 'empty' && envelope.state === 'foreign') throw conflict(loc.envelope, envelope.why);
  if (bundle.state === 'empty' && signature?.state === 'foreign') throw conflict(loc.signature, signature.why, "this model's signature");
  return { loc, bundle, envelope, ...(signature ? { signature } : {}), others: found.slice(own.length) };
}

/** True when no provenance needs signing: our bundle is already stored. */
export function hasOurBundle(slots: InspectedSlots): boolean {
  return slots.bundle.state === 'ours';
}

/** True when a model signature has to be made: the name is free. */
export function needsModelSignature(slots: InspectedSlots): boolean {
  return slots.signature?.state === 'empty';
}

/** Writes what is missing: the bundle, the envelope line derived from it, then the model signature. */
export async function writeSlots(ctx: StoreContext, slots: InspectedSlots, signed: Signed, expect: Expectation): Promise<Stored> {
  const { loc } = slots;
  const judge = provenanceJudge(ctx, expect);
  let bundleJson: string;
  if (slots.bundle.state === 'ours') {
    bundleJson = slots.bundle.content;
  } else {
    if (!signed.provenance) throw new ReconcileFailure('INTERNAL', `no signature to write to ${loc.bundle}`);
    bundleJson = await createOrAdopt(ctx, loc.bundle, signed.provenance.bundleJson, judge);
  }
  const warnings: string[] = [];
  const envelope = await writeEnvelope(ctx, slots, envelopeLine(bundleJson, loc.bundle), judge);
  if (envelope.state === 'foreign') warnings.push(foreign(loc.envelope, envelope.why, `use ${loc.bundle}`));
  const signature = await writeSignature(ctx, slots, signed.modelSignature, expect);
  if (signature?.state === 'foreign') warnings.push(foreign(loc.signature, signature.why, 'the model has no model-signing signature of ours'));
  return { bundle: loc.bundle, bundleJson, ...(signature?.state === 'ours' ? { signature: loc.signature } : {}), warnings };
}

// Ours already: the same signature, or an earlier one of ours whose bundle was lost; both verify.
async function writeEnvelope(ctx: StoreContext, slots: InspectedSlots, line: string, judge: Judge): Promise<Slot> {
  if (slots.envelope.state !== 'empty') return slots.envelope;
  return createOrRead(ctx, slots.loc.envelope, line, 'application/jsonl', judge);
}

async function writeSignature(ctx: StoreContext, slots: InspectedSlots, content: string | undefined, expect: Expectation): Promise<Slot | undefined> {
  if (slots.signature?.state !== 'empty') return slots.signature;
  if (content === undefined) throw new ReconcileFailure('INTERNAL', `no model signature to write to ${slots.loc.signature}`);
  return createOrRead(ctx, slots.loc.signature, content, 'application/json', modelSignatureJudge(ctx.ownVerifier, expect.measured));
}

async function createOrAdopt(ctx: StoreContext, uri: string, content: string, judge: Judge): Promise<string> {
  const stored = await createOrRead(ctx, uri, content, 'application/json', judge);
  if (stored.state === 'foreign') throw conflict(uri, stored.why);
  return stored.content;
}

function provenanceJudge(ctx: StoreContext, expect: Expectation): Judge {
  return async (content) => {
    if (!ctx.ownVerifier) return { state: 'foreign', why: 'this signer has no verification identity configured, so no existing object can be shown to be ours' };
    // Loaded only here: most attestations find every name free and never verify anything.
    const { failed, passed, verifyProvenance } = await import('../../src/verify/index.ts');
    const runs = [expect.invocationId, ...(expect.alsoRuns ?? [])];
    const sameRun: StatementCheck = {
      name: 'invocationId',
      evaluate: (statement) => {
        const got = (statement.predicate as { runDetails?: { metadata?: { invocationId?: unknown } } } | undefined)?.runDetails?.metadata?.invocationId;
        return typeof got === 'string' && runs.includes(got) ? passed() : failed('OTHER_RUN', `it attests run ${JSON.stringify(got)}, not ${runs.join(' or ')}`);
      },
    };
    const result = await verifyProvenance({
      provenance: content,
      trust: ctx.ownVerifier,
      artifact: { sha256: expect.measured.sha256 },
      policies: [sameRun],
    });
    if (result.ok) return { state: 'ours', content };
    const first = result.checks.find((c) => !c.ok);
    return { state: 'foreign', why: first ? `${first.name} check failed: ${first.code ?? ''} ${first.reason ?? ''}`.trim() : 'it does not verify' };
  };
}

function envelopeLine(bundleJson: string, uri: string): string {
  const bundle = JSON.parse(bundleJson) as { dsseEnvelope?: unknown };
  if (!bundle.dsseEnvelope) throw conflict(uri, 'it is not a DSSE bundle');
  return `${JSON.stringify(bundle.dsseEnvelope)}\n`;
}

function conflict(uri: string, why: string, what = "this run's provenance"): ReconcileFailure {
  return new ReconcileFailure('PROVENANCE_CONFLICT', `${uri} already exists and is not ${what} from this operator (${why}); it was left untouched`);
}

function foreign(uri: string, why: string, consequence: string): string {
  return `${uri} holds an object this operator did not write (${why}); it was left untouched — ${consequence}`;
}
