// The reconcile loop body, one for both run kinds. It receives only a key (`Kind/namespace/name`),
// reads the run live, and names its steps: decide → (hold | release | overrule | attest → record
// outcome). What differs by kind is only how a run is attested (a TaskRun alone, a PipelineRun with
// its children) and which collection it is read from. Returns 'retry' for transient faults.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Signer } from '../../src/signing/index.ts';
import type { Storage } from '../../src/storage/index.ts';
import type { SignatureVerifier } from '../../src/verify/index.ts';
import { controllingPipelineRun, type ClusterFacts, type EventRecorder, type OwnedMetadata, type RunKind, type TaskRun, type TektonRuns } from '../kube/index.ts';
import { attest, attestPipelineRun, type AttestDeps, type Attested, type AttestSettings } from './attest.ts';
import { classify, hasSealedOutcome, isPipelineTask, pipelineDeclaresOutputs, carriedSeal, type ClassifyOptions } from './classify.ts';
import type { ForeignOutcomes } from './foreign-outcomes.ts';
import { anyChildDeclaresOutputs } from './pipeline-children.ts';
import { ReconcileFailure, toFailure } from './failure.ts';
import { ANNOTATION, FINALIZER, KEY_PREFIX, outcomeMetadata, outcomeValues, valuesOn, type Outcome, type OutcomeValues } from './outcome.ts';
import type { ForeignDecision } from './foreign-outcomes.ts';
import { parseSeal, type OutcomeSeal } from './seal.ts';

export interface ReconcileSettings extends AttestSettings {
  readonly attestFailedRuns: boolean;
  readonly useFinalizer: boolean;
  readonly maxHoldSeconds: number;
  /** Transient faults are retried until this long after the TaskRun completed. */
  readonly retryBudgetMs: number;
  /** One attestation attempt ends (and is retried) after this long, whatever it waits on. */
  readonly attemptDeadlineMs: number;
  /** Every outbound call's own deadline: what recording an outcome may still take. */
  readonly requestDeadlineMs: number;
  /** PipelineRuns are attested as one run; their child TaskRuns are not attested on their own. */
  readonly pipelineRuns: boolean;
  /** The watches' label selector: a PipelineRun it does not select is not attested (its children then are, on their own). */
  readonly labelSelector: string;
}

export interface ReconcileMetrics {
  outcome(outcome: Outcome, completionToStoredSeconds?: number): void;
  retried(code: string): void;
}

/** What signs, what recognises our own signatures, and what seals our outcomes: replaced together on reload. */
export interface SigningSetup {
  readonly signer: Signer;
  readonly ownVerifier: SignatureVerifier | undefined;
  readonly seal: OutcomeSeal;
  /** The transparency log every signature goes to (transparency.url), for the run's annotation. */
  readonly logURL?: string;
}

export interface ReconcilerDeps {
  readonly runs: Readonly<Record<RunKind, TektonRuns>>;
  readonly facts: ClusterFacts;
  readonly events: EventRecorder;
  readonly storage: () => Storage;
  readonly signing: () => SigningSetup;
  readonly settings: () => ReconcileSettings;
  readonly metrics: ReconcileMetrics;
  readonly logger: Logger;
  /** Outcomes sealed by someone else, judged once per run and seal. */
  readonly foreign: ForeignOutcomes;
  readonly now?: () => number;
}

interface RunLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** A transient fault is retried at least this many times, however old the run. */
const MIN_ATTEMPTS = 3;

export class Reconciler {
  readonly #deps: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  /**
   * `key`: `TaskRun/<namespace>/<name>` or `PipelineRun/<namespace>/<name>` (a bare
   * `<namespace>/<name>` is a TaskRun). `attempt`: how many times this key failed transiently in a
   * row before (0 on the first try).
   */
  async reconcile(key: string, attempt = 0): Promise<'done' | 'retry'> {
    const { kind, namespace, name } = parseKey(key);
    const runs = this.#deps.runs[kind];
    const tr = await runs.get(namespace, name);
    if (!tr) return 'done';
    const settings = this.#deps.settings();
    const signing = this.#deps.signing();
    const pipelineRuns = await this.#attestedAsPipeline(kind, tr, settings);
    const options: ClassifyOptions = { attestFailedRuns: settings.attestFailedRuns, useFinalizer: settings.useFinalizer, seal: signing.seal, pipelineRuns, judged: (uid, seal) => this.#deps.foreign.judged(uid, seal) };
    switch (classify(tr, options, kind)) {
      case 'ignore':
        return 'done';
      case 'check-hold':
        if (await anyChildDeclaresOutputs(this.#deps.runs.TaskRun, tr)) await runs.applyMetadata(tr, { finalizers: [FINALIZER] });
        return 'done';
      case 'hold':
        await runs.applyMetadata(tr, { finalizers: [FINALIZER] });
        return 'done';
      case 'release':
        // A sealed outcome (ours, or one we judged and left) is kept; anything else is left out.
        await runs.applyMetadata(tr, carriedSeal(tr.metadata) !== undefined ? standingOutcome(tr) : {}, tr.metadata.resourceVersion);
        return 'done';
      case 'overrule':
        await this.#overrule(tr, kind, settings, signing.seal);
        return 'done';
      case 'attest':
        return this.#attest(tr, settings, signing, attempt);
      case 'judge':
        return this.#judge(tr, kind, { options, settings, signing }, attempt);
    }
  }

  async #attest(tr: TaskRun, settings: ReconcileSettings, signing: SigningSetup, attempt: number): Promise<'done' | 'retry'> {
    const outcome = await this.#outcomeOf(tr, settings, signing, attempt);
    if (outcome === 'retry') return 'retry';
    await this.#record(tr, outcome, signing.seal, this.#log(tr));
    return 'done';
  }

  /**
   * A finished run whose outcome carries a seal that is not ours. A negative outcome (failed,
   * skipped) is left as it is: it vouches for nothing, and overruling it is what made two
   * installations relabel each other's runs in a loop. A `signed` one is checked against our own
   * attestation: the same values are left (re-sealed once when the seal names this installation:
   * our own outcome under a seal key we no longer hold), different ones are overruled. Neither a
   * tenant nor another installation can make us vouch for anything we did not attest ourselves.
   */
  async #judge(tr: TaskRun, kind: RunKind, ctx: { options: ClassifyOptions; settings: ReconcileSettings; signing: SigningSetup }, attempt: number): Promise<'done' | 'retry'> {
    const { options, settings, signing } = ctx;
    const seal = carriedSeal(tr.metadata) as string;
    const claimed = parseSeal(seal)?.installation;
    const named = claimed === undefined ? 'an operator before installation names (v1 seal)' : `installation ${claimed}`;
    const theirs = valuesOn(tr.metadata) as OutcomeValues;
    const decided = async (decision: ForeignDecision, message: string): Promise<void> => {
      this.#deps.foreign.decided(decision, tr.metadata.uid, seal, claimed ?? 'v1', tr.metadata.namespace);
      this.#log(tr).warn({ sealedBy: claimed ?? 'v1', decision, outcome: theirs.signed }, message);
      if (decision === 'resealed') return;
      const event = { type: 'Warning' as const, reason: 'ForeignOutcome', message: `outcome sealed by ${named}, not by this installation (${signing.seal.installation}): ${message}` };
      await this.#deps.events.record(tr, event, eventId(tr.metadata.uid, decision, event.message)).catch(() => undefined);
    };
    if (theirs.signed !== 'true') {
      await decided('left', `its ${theirs.signed} outcome was left as it is (see docs/operator.md, "Running several installations")`);
      await this.#keepForeign(tr, kind);
      return 'done';
    }
    // What we would record ourselves, with the outcome keys out of the way.
    const bare = withoutOutcome(tr);
    if (classify(bare, { ...options, judged: undefined }, kind) !== 'attest') {
      await this.#overrule(tr, kind, settings, signing.seal);
      await decided('overruled', 'it says signed, but this run has nothing this installation attests');
      return 'done';
    }
    const ours = await this.#outcomeOf(tr, settings, signing, attempt);
    if (ours === 'retry') return 'retry';
    if (!sameValues(outcomeValues(ours), theirs)) {
      await this.#record(tr, ours, signing.seal, this.#log(tr));
      await decided('overruled', `this installation's own attestation differs, so its outcome was recorded instead: ${outcomeValues(ours).signed}`);
      return 'done';
    }
    if ((claimed === undefined || claimed === signing.seal.installation) && !this.#deps.foreign.resealedBefore(tr.metadata.uid)) {
      await this.#deps.runs[kind].applyMetadata(tr, outcomeMetadata(theirs, signing.seal.seal(tr.metadata.uid, theirs)), tr.metadata.resourceVersion);
      await decided('resealed', 'our own outcome under a seal key this operator no longer holds: it attests the same, so it was sealed again with the current key');
      return 'done';
    }
    await decided('agreed', 'this installation attests the same provenance, so it was left as it is');
    await this.#keepForeign(tr, kind);
    return 'done';
  }

  /** Our finalizer released from a run whose outcome we left, with that outcome kept as it is. */
  async #keepForeign(tr: TaskRun, kind: RunKind): Promise<void> {
    if ((tr.metadata.finalizers ?? []).includes(FINALIZER)) await this.#deps.runs[kind].applyMetadata(tr, standingOutcome(tr), tr.metadata.resourceVersion);
  }

  /** What this operator would record for a finished run: attests it, or 'retry' for a transient fault. */
  async #outcomeOf(tr: TaskRun, settings: ReconcileSettings, signing: SigningSetup, attempt: number): Promise<Outcome | 'retry'> {
    const log = this.#log(tr);
    const deadlineMs = this.#deadlineMs(tr, settings);
    if (deadlineMs <= 0) {
      // Deleted and held long enough: let it go now rather than start an attempt that would outlive the hold.
      return { kind: 'failed', code: 'FINALIZER_TIMEOUT', reason: `deleted ${settings.maxHoldSeconds}s ago and not attested yet; released without provenance` };
    }
    let outcome: Outcome;
    try {
      const signal = AbortSignal.timeout(deadlineMs);
      const deps = { facts: this.#deps.facts, storage: this.#deps.storage(), signer: signing.signer, ownVerifier: signing.ownVerifier, settings: { ...settings, signal }, ...(signing.logURL ? { logURL: signing.logURL } : {}) };
      // A call that ignores the signal is left behind: its writes are create-only and adopted by the next attempt.
      const { bundles, entries, warnings } = await untilAborted(this.#attestRun(deps, tr), signal, deadlineMs);
      outcome = { kind: 'signed', bundles, ...(entries.length > 0 ? { entries } : {}), ...(warnings.length > 0 ? { warning: warnings.join('; ') } : {}) };
    } catch (err) {
      const code = (err as { name?: string; code?: string }).name === 'AttestError' ? (err as { code?: string }).code : undefined;
      if (code === 'NO_OUTPUTS' || code === 'NO_MODEL_OUTPUT') {
        outcome = { kind: 'skipped', code: code === 'NO_OUTPUTS' ? 'NO_BUILD_ARTIFACT' : 'NO_MODEL_OUTPUT', reason: (err as Error).message };
      } else {
        const failure = this.#giveUpOrRetry(tr, toFailure(err), settings, attempt);
        if (!failure) {
          log.warn({ err: String(err), attempt }, 'transient failure; will retry');
          return 'retry';
        }
        outcome = { kind: 'failed', code: failure.code, reason: failure.message };
      }
    }
    return outcome;
  }

  #attestRun(deps: AttestDeps, tr: TaskRun): Promise<Attested> {
    if (kindOf(tr) === 'TaskRun') return attest(deps, tr);
    // It announced a model while running: a child missing now makes its provenance partial.
    const announced = (tr.metadata.finalizers ?? []).includes(FINALIZER) || pipelineDeclaresOutputs(tr.status ?? {});
    return attestPipelineRun(deps, tr, { taskRuns: this.#deps.runs.TaskRun, announced });
  }

  /**
   * Whether PipelineRuns decide for this run: for a PipelineRun, whether it is attested as one run
   * (on, and selected by the label selector); for a TaskRun a PipelineRun controls, whether that
   * PipelineRun is (else the TaskRun is attested on its own). With a label selector, the API
   * server says whether the PipelineRun matches it.
   */
  async #attestedAsPipeline(kind: RunKind, tr: TaskRun, settings: ReconcileSettings): Promise<boolean> {
    if (!settings.pipelineRuns) return false;
    if (settings.labelSelector === '') return true;
    const name = kind === 'PipelineRun' ? tr.metadata.name : controllingPipelineRun(tr.metadata)?.name;
    if (name === undefined) return true;
    return this.#deps.runs.PipelineRun.matches(tr.metadata.namespace, name, settings.labelSelector);
  }

  /**
   * How long this attempt may take: the attempt deadline, and for a deleted TaskRun no longer than
   * its finalizer may still hold it, less what recording the outcome may take.
   */
  #deadlineMs(tr: TaskRun, settings: ReconcileSettings): number {
    const deleted = tr.metadata.deletionTimestamp ? new Date(tr.metadata.deletionTimestamp).getTime() : undefined;
    if (deleted === undefined) return settings.attemptDeadlineMs;
    const releaseBy = deleted + settings.maxHoldSeconds * 1000 - 3 * settings.requestDeadlineMs;
    return Math.min(settings.attemptDeadlineMs, releaseBy - this.#now());
  }

  /**
   * undefined: retry later; otherwise the terminal failure to record. The budget counts from the
   * run's completion, so it needs no state of ours and survives restarts.
   */
  #giveUpOrRetry(tr: TaskRun, failure: ReconcileFailure, settings: ReconcileSettings, attempt: number): ReconcileFailure | undefined {
    if (!failure.retryable) return failure;
    const now = this.#now();
    const deletedAt = tr.metadata.deletionTimestamp ? new Date(tr.metadata.deletionTimestamp).getTime() : undefined;
    if (deletedAt !== undefined && now - deletedAt >= settings.maxHoldSeconds * 1000 - 3 * settings.requestDeadlineMs) {
      return new ReconcileFailure('FINALIZER_TIMEOUT', `deleted ${Math.round((now - deletedAt) / 1000)}s ago and still failing (finalizer.maxHoldSeconds ${settings.maxHoldSeconds}): ${failure.code}: ${failure.message}`);
    }
    const completed = completionTime(tr) ?? now;
    if (now - completed >= settings.retryBudgetMs && attempt + 1 >= MIN_ATTEMPTS) {
      return new ReconcileFailure('RETRY_BUDGET_EXHAUSTED', `still failing ${Math.round((now - completed) / 1000)}s after the run completed: ${failure.code}: ${failure.message}`);
    }
    this.#deps.metrics.retried(failure.code);
    return undefined;
  }

  /**
   * The Event first, under a name derived from the outcome (so a crash before the outcome is
   * recorded cannot lose it, and a retry cannot duplicate it); then values we did not write are
   * removed; then one apply sets the sealed outcome and, by leaving the finalizer out, releases the run.
   */
  async #record(tr: TaskRun, outcome: Outcome, seal: OutcomeSeal, log: RunLog): Promise<void> {
    const values = outcomeValues(outcome);
    const event = eventFor(outcome);
    // A PipelineRun in which nothing reports a model is marked (so it is not read again) without an Event.
    const quiet = outcome.kind === 'skipped' && outcome.code === 'NO_MODEL_OUTPUT';
    if (!quiet) {
      await this.#deps.events.record(tr, event, eventId(tr.metadata.uid, values.signed, event.message))
        .catch((err: unknown) => log.warn({ err: String(err) }, 'could not record the Event'));
    }
    const metadata = outcomeMetadata(values, seal.seal(tr.metadata.uid, values));
    const leftovers = leftoverKeys(tr, metadata);
    const runs = this.#deps.runs[kindOf(tr)];
    // Only over the run as it was read: an outcome someone recorded meanwhile (another
    // installation) makes these writes fail with 409, and the retry reads and judges it.
    let version = tr.metadata.resourceVersion;
    if (leftovers.annotations.length + leftovers.labels.length > 0) version = await runs.removeKeys(tr, leftovers, version);
    await runs.applyMetadata(tr, metadata, version);
    const completed = completionTime(tr);
    this.#deps.metrics.outcome(outcome, completed === undefined ? undefined : Math.max(0, (this.#now() - completed) / 1000));
    if (quiet) return;
    if (outcome.kind === 'signed') {
      log.info({ provenance: outcome.bundles, ...(outcome.warning ? { warning: outcome.warning } : {}) }, 'provenance stored');
    } else {
      log.warn({ outcome: outcome.kind, code: outcome.code, reason: outcome.reason }, outcome.kind === 'skipped' ? 'nothing to attest' : 'provenance failed');
    }
  }

  /** Values we did not write on a finished run with nothing to attest: removed, and (except on a pipeline task) a failed outcome. */
  async #overrule(tr: TaskRun, kind: RunKind, settings: ReconcileSettings, seal: OutcomeSeal): Promise<void> {
    if (kind === 'TaskRun' && settings.pipelineRuns && isPipelineTask(tr)) return this.#removeForeign(tr, seal);
    await this.#record(tr, {
      kind: 'failed',
      code: 'FOREIGN_OUTCOME',
      reason: `${KEY_PREFIX} keys on this ${kind} were not written by the operator (set on it, or copied by Tekton from its Task, Pipeline or PipelineRun); they were removed, and there is nothing to attest`,
    }, seal, this.#log(tr));
  }

  /**
   * A pipeline task carries no outcome of its own (its models are attested on its PipelineRun), so
   * values someone else wrote on it (or Tekton copied from the PipelineRun) are only removed, with
   * a Warning Event saying so.
   */
  async #removeForeign(tr: TaskRun, seal: OutcomeSeal): Promise<void> {
    const keys = leftoverKeys(tr, {});
    const message = `removed ${[...keys.annotations, ...keys.labels].join(', ')}: ${KEY_PREFIX} keys are written only by the operator, and this TaskRun's models are attested on its PipelineRun`;
    await this.#deps.events.record(tr, { type: 'Warning', reason: 'ForeignOutcomeRemoved', message }, eventId(tr.metadata.uid, 'removed', message))
      .catch((err: unknown) => this.#log(tr).warn({ err: String(err) }, 'could not record the Event'));
    await this.#deps.runs.TaskRun.removeKeys(tr, keys);
    if ((tr.metadata.finalizers ?? []).includes(FINALIZER)) await this.#deps.runs.TaskRun.applyMetadata(tr, sealedOutcome(tr, seal));
    this.#log(tr).warn({ removed: keys }, 'removed slsa-ml.dev/ keys the operator did not write from a pipeline task');
  }

  /** Lines about one run, naming it: its fields are merged into each line (a pino child per reconcile cost more than the lines). */
  #log(tr: TaskRun): RunLog {
    const logger = this.#deps.logger;
    const run = { [kindOf(tr) === 'PipelineRun' ? 'pipelineRun' : 'taskRun']: `${tr.metadata.namespace}/${tr.metadata.name}`, uid: tr.metadata.uid };
    return {
      info: (fields, message) => logger.info({ ...run, ...fields }, message),
      warn: (fields, message) => logger.warn({ ...run, ...fields }, message),
    };
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }
}

/** The queue key of a run: `Kind/namespace/name`. */
export function runKey(kind: RunKind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function parseKey(key: string): { kind: RunKind; namespace: string; name: string } {
  const parts = key.split('/');
  if (parts.length === 2) return { kind: 'TaskRun', namespace: parts[0] ?? '', name: parts[1] ?? '' };
  return { kind: parts[0] === 'PipelineRun' ? 'PipelineRun' : 'TaskRun', namespace: parts[1] ?? '', name: parts[2] ?? '' };
}

function kindOf(tr: TaskRun): RunKind {
  return tr.kind === 'PipelineRun' ? 'PipelineRun' : 'TaskRun';
}

/** The attempt's result, or a retryable DEADLINE_EXCEEDED as soon as `signal` fires. */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, deadlineMs: number): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ReconcileFailure('DEADLINE_EXCEEDED', `the attempt did not finish within ${Math.round(deadlineMs / 1000)} s`, { retryable: true }));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    work.catch(() => undefined); // a late failure of abandoned work is not an unhandled rejection
  }
}

function eventFor(outcome: Outcome): { type: 'Normal' | 'Warning'; reason: string; message: string } {
  switch (outcome.kind) {
    case 'signed':
      return outcome.warning
        ? { type: 'Warning', reason: 'ProvenanceStored', message: `signed provenance stored at ${outcome.bundles.join(', ')}; ${outcome.warning}` }
        : { type: 'Normal', reason: 'ProvenanceStored', message: `signed provenance stored at ${outcome.bundles.join(', ')}` };
    case 'failed':
      return { type: 'Warning', reason: 'ProvenanceFailed', message: `${outcome.code}: ${outcome.reason}` };
    case 'skipped':
      return { type: 'Normal', reason: 'ProvenanceSkipped', message: `${outcome.code}: ${outcome.reason}` };
  }
}

function eventId(uid: string, kind: string, message: string): string {
  return createHash('sha256').update(`${uid}\n${kind}\n${message}`).digest('hex').slice(0, 20);
}

/** Our outcome as it stands, re-applied only when it carries our seal; anything else is left out. */
function sealedOutcome(tr: TaskRun, seal: OutcomeSeal): OwnedMetadata {
  return hasSealedOutcome(tr.metadata, seal) ? standingOutcome(tr) : {};
}

/**
 * The outcome as it stands with the seal it carries, re-applied when we release our finalizer: an
 * apply leaves out what it does not name, and this one must not take a sealed outcome away.
 */
function standingOutcome(tr: TaskRun): OwnedMetadata {
  const values = valuesOn(tr.metadata);
  return values ? outcomeMetadata(values, tr.metadata.annotations?.[ANNOTATION.seal] ?? '') : {};
}

function sameValues(a: OutcomeValues, b: OutcomeValues): boolean {
  return a.signed === b.signed && a.label === b.label && (a.bundle ?? '') === (b.bundle ?? '') && (a.reason ?? '') === (b.reason ?? '');
}

/** The run as it would look with no outcome on it: what we would decide ourselves. */
function withoutOutcome(tr: TaskRun): TaskRun {
  const strip = (m: Record<string, string> | undefined): Record<string, string> => Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !k.startsWith(KEY_PREFIX)));
  return { ...tr, metadata: { ...tr.metadata, annotations: strip(tr.metadata.annotations), labels: strip(tr.metadata.labels) } };
}

/**
 * slsa-ml.dev/ keys on the TaskRun that the new outcome does not set: values someone else wrote
 * (or an older operator's keys), removed so that only the sealed outcome remains.
 */
function leftoverKeys(tr: TaskRun, next: OwnedMetadata): { annotations: string[]; labels: string[] } {
  const stale = (present: Record<string, string> | undefined, kept: Record<string, string> | undefined): string[] =>
    Object.keys(present ?? {}).filter((k) => k.startsWith(KEY_PREFIX) && !(k in (kept ?? {})));
  return { annotations: stale(tr.metadata.annotations, next.annotations), labels: stale(tr.metadata.labels, next.labels) };
}

function completionTime(tr: TaskRun): number | undefined {
  const completed = tr.status?.completionTime ? Date.parse(tr.status.completionTime) : NaN;
  return Number.isNaN(completed) ? undefined : completed;
}
