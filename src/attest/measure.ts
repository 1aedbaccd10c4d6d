// The model outputs of a finished TaskRun, measured by streaming them from storage ourselves.
// The type hints only say where to look: an output outside the run's allowed prefixes, an object
// older than the run, a model over the size limits, or a reported digest that differs from the
// measured one is a refusal. Shared by the operator and `slsa-ml attest`.
import { digestStorage, type ModelDigest } from '../digest/index.ts';
import { isUnderPrefix } from '../layout/index.ts';
import { modelSubject, readPipelineTypeHints, readTypeHints, type ArtifactHint, type PipelineChild, type PipelineRun, type Subject, type TaskRun } from '../provenance/index.ts';
import type { Storage, StoredObject } from '../storage/index.ts';
import { AttestError } from './errors.ts';

/** Placeholder in an allowed prefix for the TaskRun's own namespace. */
export const NAMESPACE_PLACEHOLDER = '{namespace}';

export interface ModelLimits {
  /** Objects in one directory model. */
  readonly files: number;
  /** Bytes in one model (all of its objects). */
  readonly bytes: number;
}

export interface MeasureSettings {
  /** May contain `{namespace}`, replaced by the TaskRun's namespace. */
  readonly allowedPrefixes: readonly string[];
  readonly digestConcurrency?: number;
  readonly limits?: ModelLimits;
  /**
   * When set, every object must have been created at most this many seconds before the run
   * started (the allowance covers clock differences between the cluster and the store).
   * Unset (one-shot CLI use): creation times are not checked.
   */
  readonly clockSkewSeconds?: number;
  readonly signal?: AbortSignal;
}

export interface MeasuredOutput {
  readonly uri: string;
  readonly subject: Subject;
  readonly digest: ModelDigest;
}

/** The URI schemes the allowed prefixes use: the only ones an output hint may name. */
export function outputSchemes(allowedPrefixes: readonly string[]): string[] {
  return [...new Set(allowedPrefixes.map((p) => p.slice(0, p.indexOf(':'))))];
}

/** The allowed prefixes for one namespace, `{namespace}` filled in. */
export function prefixesFor(allowedPrefixes: readonly string[], namespace: string): string[] {
  return allowedPrefixes.map((p) => p.replaceAll(NAMESPACE_PLACEHOLDER, namespace));
}

export async function measureOutputs(taskRun: TaskRun, storage: Storage, settings: MeasureSettings): Promise<MeasuredOutput[]> {
  const allowed = prefixesFor(settings.allowedPrefixes, taskRun.metadata?.namespace ?? '');
  const hints = readTypeHints(taskRun, { outputSchemes: outputSchemes(allowed) });
  return measureHinted(hints.outputs, taskRun, storage, settings, 'the TaskRun reports');
}

/**
 * The models of a PipelineRun: reported by its own results or (deep inspection) by any child
 * TaskRun's. Every object must be no older than the PipelineRun's start.
 */
export async function measurePipelineOutputs(pipelineRun: PipelineRun, children: readonly PipelineChild[], storage: Storage, settings: MeasureSettings & { readonly deepInspection?: boolean }): Promise<MeasuredOutput[]> {
  const allowed = prefixesFor(settings.allowedPrefixes, pipelineRun.metadata?.namespace ?? '');
  const hints = readPipelineTypeHints(pipelineRun, children, { outputSchemes: outputSchemes(allowed), deepInspection: settings.deepInspection ?? true });
  return measureHinted(hints.outputs, pipelineRun, storage, settings, settings.deepInspection === false ? 'the PipelineRun reports' : 'neither the PipelineRun nor any of its TaskRuns reports');
}

async function measureHinted(hinted: readonly ArtifactHint[], run: TaskRun, storage: Storage, settings: MeasureSettings, who: string): Promise<MeasuredOutput[]> {
  const namespace = run.metadata?.namespace ?? '';
  const allowed = prefixesFor(settings.allowedPrefixes, namespace);
  const outputs = hinted.filter((o) => o.isBuildArtifact);
  if (outputs.length === 0) throw new AttestError('NO_OUTPUTS', `${who} no model output marked isBuildArtifact: "true"`);
  checkPrefixes(outputs, allowed, settings.allowedPrefixes.some((p) => p.includes(NAMESPACE_PLACEHOLDER)) ? namespace : undefined);
  const notBefore = settings.clockSkewSeconds === undefined ? undefined : runStart(run, settings.clockSkewSeconds);
  const measured: MeasuredOutput[] = [];
  for (const output of outputs) {
    const digest = await digestStorage(storage, output.uri, {
      ...(settings.digestConcurrency ? { concurrency: settings.digestConcurrency } : {}),
      ...(settings.signal ? { signal: settings.signal } : {}),
      admit: admission(output.uri, settings.limits, notBefore, run.kind ?? 'TaskRun'),
    });
    if (output.digest && output.digest.hex !== digest.sha256) {
      throw new AttestError('DIGEST_MISMATCH',
        `${resultLabel(output)}: reported sha256:${output.digest.hex} but ${output.uri} measures sha256:${digest.sha256}`);
    }
    measured.push({ uri: output.uri, subject: modelSubject(output.uri, digest), digest });
  }
  return measured;
}

function checkPrefixes(outputs: readonly ArtifactHint[], allowed: readonly string[], scopedTo: string | undefined): void {
  for (const output of outputs) {
    if (!isUnderPrefix(output.uri, allowed)) {
      const scope = scopedTo === undefined ? '' : ` for namespace ${scopedTo}`;
      throw new AttestError('PREFIX_NOT_ALLOWED', `${resultLabel(output)}: ${output.uri} is outside the allowed prefixes${scope} (${allowed.join(', ')})`);
    }
  }
}

function resultLabel(hint: ArtifactHint): string {
  return `result ${hint.resultName}${hint.origin === undefined ? '' : ` of ${hint.origin}`}`;
}

/** Checks each listed object before anything is hashed: limits first, then its age. */
function admission(modelUri: string, limits: ModelLimits | undefined, notBefore: Date | undefined, kind: string): (o: StoredObject) => void {
  let files = 0;
  let bytes = 0;
  return (object) => {
    files++;
    bytes += object.size;
    if (limits && files > limits.files) {
      throw new AttestError('MODEL_TOO_MANY_FILES', `${modelUri} has more than ${limits.files} objects (limits.modelFiles)`);
    }
    if (limits && bytes > limits.bytes) {
      throw new AttestError('MODEL_TOO_LARGE', `${modelUri} holds more than ${limits.bytes} bytes (limits.modelBytes)`);
    }
    if (notBefore === undefined) return;
    if (object.created === undefined) {
      throw new AttestError('MODEL_PREDATES_RUN', `${object.uri}: the store reports no creation time, so it cannot be shown to come from this run`);
    }
    if (object.created < notBefore) {
      throw new AttestError('MODEL_PREDATES_RUN',
        `${object.uri} was created at ${object.created.toISOString()}, before this ${kind} started (${notBefore.toISOString()} with the clock allowance): a run may only attest objects it created`);
    }
  };
}

/**
 * The earliest moment an object of this run can have been created: the start of its first
 * attempt (Tekton keeps earlier attempts in status.retriesStatus), less the clock allowance.
 * Without a start time, the TaskRun's creation, which the API server sets.
 */
function runStart(taskRun: TaskRun, clockSkewSeconds: number): Date {
  const status = taskRun.status ?? {};
  const retries = Array.isArray(status.retriesStatus) ? (status.retriesStatus as Array<{ startTime?: unknown }>) : [];
  const starts = [status.startTime, ...retries.map((r) => r.startTime)]
    .map((t) => (typeof t === 'string' || t instanceof Date ? new Date(t).getTime() : NaN))
    .filter((t) => !Number.isNaN(t));
  const created = new Date(String(taskRun.metadata?.creationTimestamp ?? '')).getTime();
  const start = starts.length > 0 ? Math.min(...starts) : created;
  if (Number.isNaN(start)) throw new AttestError('MODEL_PREDATES_RUN', `the ${taskRun.kind ?? 'TaskRun'} has neither status.startTime nor metadata.creationTimestamp: cannot tell which objects it created`);
  return new Date(start - clockSkewSeconds * 1000);
}
