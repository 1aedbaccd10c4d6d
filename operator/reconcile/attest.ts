// Attests one finished TaskRun, or one finished PipelineRun with all its child TaskRuns: facts
// from each run's own Pod and Node, outputs measured by us, one signed statement per model and,
// from the same measurement, one OpenSSF model-signing signature. Everything that can refuse the
// run (prefixes, object ages, sizes, what already sits at the names next to each model) is
// checked before the first object is written.
import { manifestOf, modelNameOf, serializeModelSigningStatement, signModelSigningPayload } from '../../src/model-signing/index.ts';
import { buildPipelineStatement, buildStatement, readPipelineTypeHints, serializeStatement, type ProvenanceSettings, type Statement, type TaskRun as ProvenanceTaskRun } from '../../src/provenance/index.ts';
import { signStatement, type Signer } from '../../src/signing/index.ts';
import type { Storage } from '../../src/storage/index.ts';
import type { SignatureVerifier } from '../../src/verify/index.ts';
import { controllingPipelineRun, type ClusterFacts, type TaskRun, type TektonRuns } from '../kube/index.ts';
import { AttestError, measureOutputs, measurePipelineOutputs, outputSchemes, prefixesFor, type MeasureSettings, type MeasuredOutput } from '../../src/attest/index.ts';
import { readChildRuns, withPlacement } from './pipeline-children.ts';
import { PrefetchingStorage } from './prefetch.ts';
import { ownPod, withNode } from './run-facts.ts';
import { hasOurBundle, inspectSlots, needsModelSignature, writeSlots, type Expectation, type InspectedSlots, type Signed } from './store.ts';
import { summarySlots, writeSummaries, type SummarySettings } from './summaries.ts';

export interface AttestSettings extends MeasureSettings {
  readonly provenance: ProvenanceSettings;
  /** Largest serialized statement (provenance or model-signing manifest); checked before signing. */
  readonly maxStatementBytes: number;
  /** Write `<model>.sig`, an OpenSSF model-signing v1.0 signature, next to each model. */
  readonly modelSignature: boolean;
  /** A PipelineRun's children are inspected for models, sources and inputs (pipelineRuns.deepInspection). */
  readonly deepInspection: boolean;
  /** Most child runs a PipelineRun may have (limits.pipelineTaskRuns); checked before any is read. */
  readonly maxPipelineTaskRuns: number;
  /** Signed verification summaries beside each model, one per policy (verificationSummaries). */
  readonly summaries: SummarySettings;
}

export interface AttestDeps {
  readonly facts: ClusterFacts;
  readonly storage: Storage;
  readonly signer: Signer;
  readonly ownVerifier: SignatureVerifier | undefined;
  readonly settings: AttestSettings;
  /** The transparency log the signer records in: its entries are named on the run. */
  readonly logURL?: string;
}

export interface Attested {
  /** URIs of the stored Sigstore bundles, one per model. */
  readonly bundles: string[];
  /** The bundles' transparency-log entries, `<log URL>#<logIndex>`, in the same order (none without a log). */
  readonly entries: string[];
  readonly warnings: string[];
}

interface Planned {
  readonly output: MeasuredOutput;
  readonly payload: Buffer;
  /** The model-signing statement, when model signatures are on. */
  readonly manifestPayload?: Buffer;
  readonly expect: Expectation;
}

export async function attest(deps: AttestDeps, tr: TaskRun): Promise<Attested> {
  const run = tr as unknown as ProvenanceTaskRun;
  const storage = prefetching(deps);
  // The Pod first: a run whose status came from a Pod it does not control is refused before any
  // model is read. Then the Node and the models, at once.
  const own = await ownPod(deps.facts, tr);
  const [facts, outputs] = await Promise.all([withNode(deps.facts, own), measureOutputs(run, storage, deps.settings)]);
  const settings = provenanceSettings(deps.settings, tr.metadata.namespace);
  // A pipeline task attested alone (PipelineRuns off, or its PipelineRun not selected) adopts its
  // PipelineRun's provenance of ours: still one provenance per model.
  const parent = controllingPipelineRun(tr.metadata);
  return store(deps, storage, { invocationId: tr.metadata.uid, ...(parent ? { alsoRuns: [parent.uid] } : {}) }, outputs,
    (output) => buildStatement({ taskRun: run, ...facts, settings, subjects: [output.subject], siblings: outputs.map((o) => o.subject) }));
}

/** What the reconciler knows of a PipelineRun beyond its object. */
export interface PipelineContext {
  readonly taskRuns: TektonRuns;
  /** It announced a model while running (our finalizer holds it, or its results declare one). */
  readonly announced: boolean;
}

/**
 * One provenance per model of the whole PipelineRun, built from every child TaskRun as it stands
 * now. A PipelineRun in which nothing reports a model is NO_MODEL_OUTPUT (recorded quietly), read
 * no further than its TaskRuns; a child that is gone or not its own fails a run that has (or
 * announced) a model, and so does a child whose Pod is there and not its own (POD_NOT_OWNED:
 * every child's results feed the statement), before any model is read.
 */
export async function attestPipelineRun(deps: AttestDeps, pr: TaskRun, context: PipelineContext): Promise<Attested> {
  const pipelineRun = pr as unknown as ProvenanceTaskRun;
  const { present, problems, uninspected } = await readChildRuns(context.taskRuns, pr, deps.settings.maxPipelineTaskRuns);
  const deepInspection = deps.settings.deepInspection;
  const schemes = outputSchemes(prefixesFor(deps.settings.allowedPrefixes, pr.metadata.namespace));
  const reported = readPipelineTypeHints(pipelineRun, present, { outputSchemes: schemes, deepInspection }).outputs;
  if (problems[0] && (reported.length > 0 || context.announced)) throw problems[0];
  if (reported.length === 0) {
    const unread = problems.length > 0 ? `; ${problems.length} of its TaskRuns could not be read` : '';
    throw new AttestError('NO_MODEL_OUTPUT', `neither the PipelineRun nor ${deepInspection ? 'any of its TaskRuns' : 'its results'} reports a model output${unread}`);
  }
  const children = await withPlacement(deps.facts, present);
  const storage = prefetching(deps);
  const outputs = await measurePipelineOutputs(pipelineRun, children, storage, { ...deps.settings, deepInspection });
  const base = provenanceSettings(deps.settings, pr.metadata.namespace);
  const settings = { ...base, operatorConfig: { ...base.operatorConfig, deepInspection } };
  // A child's provenance of ours (written before PipelineRuns were attested) is this run's too.
  const run = { invocationId: pr.metadata.uid, alsoRuns: children.flatMap((c) => (c.taskRun.metadata?.uid ? [c.taskRun.metadata.uid] : [])) };
  const others = uninspected.map((r) => ({ pipelineTask: r.pipelineTask, kind: r.kind, name: r.name }));
  return store(deps, storage, run, outputs,
    (output) => buildPipelineStatement({ pipelineRun, children, uninspected: others, settings, deepInspection, subjects: [output.subject], siblings: outputs.map((o) => o.subject) }));
}

function prefetching(deps: AttestDeps): PrefetchingStorage {
  return new PrefetchingStorage(deps.storage, { modelSignature: deps.settings.modelSignature, summaryDigests: deps.settings.summaries.policies.map((p) => p.digest) });
}

function provenanceSettings(settings: AttestSettings, namespace: string): ProvenanceSettings {
  return { ...settings.provenance, outputSchemes: outputSchemes(prefixesFor(settings.allowedPrefixes, namespace)) };
}

/**
 * Signs and stores each model's statement: every statement's size checked and every slot
 * inspected before the first write. With several models, each statement is built again when it is
 * signed rather than all held at once (they are deterministic: the same bytes again).
 */
async function store(deps: AttestDeps, storage: Storage, run: Pick<Expectation, 'invocationId' | 'alsoRuns'>, outputs: readonly MeasuredOutput[], statementOf: (output: MeasuredOutput) => Statement): Promise<Attested> {
  const { settings } = deps;
  const plan = (output: MeasuredOutput): Planned => {
    const payload = withinLimit(serializeStatement(statementOf(output)), 'provenance', output.uri, settings);
    // From the measurement the provenance's subject came from: the two never disagree.
    const manifestPayload = settings.modelSignature
      ? withinLimit(serializeModelSigningStatement(manifestOf(modelNameOf(output.uri), output.digest)), 'model-signing manifest', output.uri, settings)
      : undefined;
    return { output, payload, ...(manifestPayload ? { manifestPayload } : {}), expect: { ...run, measured: output.digest } };
  };
  const first = outputs.length === 1 ? plan(outputs[0] as MeasuredOutput) : undefined;
  if (!first) for (const output of outputs) plan(output);
  // Twice the statement (base64 in the bundle) and room for certificates and log entries.
  const ctx = { storage, ownVerifier: deps.ownVerifier, modelSignature: settings.modelSignature, maxBytes: 2 * settings.maxStatementBytes + 64 * 1024 };
  const summaries = { ...ctx, signer: deps.signer, settings: settings.summaries };
  const slots: InspectedSlots[] = [];
  for (const output of outputs) slots.push(await inspectSlots(ctx, output.uri, { ...run, measured: output.digest }, summarySlots(summaries, output.uri, output.digest.sha256)));
  const bundles: string[] = [];
  const entries: string[] = [];
  const warnings: string[] = [];
  for (const [i, output] of outputs.entries()) {
    const slot = slots[i] as InspectedSlots;
    const p = first ?? plan(output);
    const stored = await writeSlots(ctx, slot, await sign(deps.signer, slot, p), p.expect).catch((err: unknown) => {
      // Only a writer racing us between inspection and write gets here with models already done.
      if (bundles.length > 0 && err instanceof Error) err.message += `; provenance for the run's other models was stored first: ${bundles.join(', ')}`;
      throw err;
    });
    bundles.push(stored.bundle);
    const entry = deps.logURL === undefined ? undefined : logEntryName(deps.logURL, stored.bundleJson);
    if (entry !== undefined) entries.push(entry);
    warnings.push(...stored.warnings);
    // After the provenance is stored, and judged on the bundle of record.
    const target = { modelUri: output.uri, sha256: output.digest.sha256, bundleUri: stored.bundle, bundleJson: stored.bundleJson, modelSignature: stored.signature !== undefined, now: new Date() };
    warnings.push(...await writeSummaries(summaries, slot.others, target));
  }
  return { bundles, entries, warnings };
}

/**
 * Where a bundle's entry is in the log: `<log URL>#<logIndex>`. A Rekor v2 log has no per-entry
 * URL (entries are read from its tiles by index), so the index rides in the fragment. An adopted
 * bundle from before the log was configured carries none.
 */
function logEntryName(logURL: string, bundleJson: string): string | undefined {
  let material: { tlogEntries?: Array<{ logIndex?: unknown }> } | undefined;
  try {
    material = (JSON.parse(bundleJson) as { verificationMaterial?: typeof material }).verificationMaterial;
  } catch {
    return undefined; // the bundle of record was checked before it was adopted or written: not reached
  }
  const entry = material?.tlogEntries?.[0];
  if (entry === undefined) return undefined;
  // Protobuf JSON leaves a zero out: the log's first entry has no logIndex.
  const index = typeof entry.logIndex === 'string' || typeof entry.logIndex === 'number' ? String(entry.logIndex) : '0';
  return `${logURL.replace(/\/+$/, '')}#${index}`;
}

/** Signs only what a free slot needs: nothing is signed again for what an earlier attempt stored. */
async function sign(signer: Signer, slot: InspectedSlots, p: Planned): Promise<Signed> {
  const provenance = hasOurBundle(slot) ? undefined : await signStatement(p.payload, signer);
  const modelSignature = needsModelSignature(slot) && p.manifestPayload ? await signModelSigningPayload(p.manifestPayload, signer) : undefined;
  return { ...(provenance ? { provenance } : {}), ...(modelSignature ? { modelSignature } : {}) };
}

function withinLimit(payload: Buffer, what: string, uri: string, settings: AttestSettings): Buffer {
  if (payload.length > settings.maxStatementBytes) {
    throw new AttestError('STATEMENT_TOO_LARGE', `the ${what} for ${uri} would be ${payload.length} bytes, over limits.statementBytes (${settings.maxStatementBytes})`);
  }
  return payload;
}
