// The serving gate's decision on one InferenceService: every model it names must be a gs:// model
// with a valid verification summary for the platform's policy, and nothing in it may go around
// the storage initializer. Every reason is collected, so one `kubectl apply` says all that is wrong.
import { readInferenceService, type ModelSource } from './sources.ts';

export type SummaryVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Whether a valid summary for the configured policy stands beside the model at `uri`. */
export type SummaryCheck = (uri: string, signal: AbortSignal) => Promise<SummaryVerdict>;

export type Decision = { readonly allowed: true; readonly models: string[] } | { readonly allowed: false; readonly reasons: string[] };

const GATED_SCHEME = 'gs://';

export async function decide(isvc: unknown, check: SummaryCheck, signal: AbortSignal): Promise<Decision> {
  if ((isvc as { kind?: unknown } | null)?.kind === 'TrainedModel') {
    // Multi-model serving: KServe's model agent pulls these itself, never through the storage initializer.
    return { allowed: false, reasons: ['a TrainedModel is loaded by KServe\'s model agent, past the storage initializer: serve it as an InferenceService of its own in a gated namespace'] };
  }
  const { sources, bypasses } = readInferenceService(isvc);
  const reasons = bypasses.map((b) => `${b.field}: ${b.reason}`);
  if (sources.length === 0 && bypasses.length === 0) reasons.push('names no model (storageUri gs://…): a model that does not come through the storage initializer cannot be checked');
  const gated = sources.filter((s) => s.uri.startsWith(GATED_SCHEME));
  for (const s of sources.filter((x) => !x.uri.startsWith(GATED_SCHEME))) {
    reasons.push(`${s.field}: ${s.uri} is not a ${GATED_SCHEME} model; only ${GATED_SCHEME} models are loaded through the slsa-ml storage initializer`);
  }
  const verdicts = await Promise.all(gated.map((s) => summaryOf(s, check, signal)));
  reasons.push(...verdicts.filter((v): v is string => v !== undefined));
  return reasons.length === 0 ? { allowed: true, models: gated.map((s) => s.uri) } : { allowed: false, reasons };
}

async function summaryOf(source: ModelSource, check: SummaryCheck, signal: AbortSignal): Promise<string | undefined> {
  try {
    const verdict = await check(source.uri, signal);
    return verdict.ok ? undefined : `${source.field}: ${source.uri}: ${verdict.reason}`;
  } catch (err) {
    // Fail closed: a summary that cannot be read is not a valid one.
    return `${source.field}: ${source.uri}: the verification summary could not be checked: ${(err as Error).message.split('\n')[0] ?? ''}`;
  }
}
