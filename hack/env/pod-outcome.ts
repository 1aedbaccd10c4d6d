// What a finished TaskRun Pod reports, computed the way Tekton's entrypoint (pkg/entrypoint,
// cmd/entrypoint) and the kubelet would report it, from what each step did. kwok's pod-finish
// stage (kwok-stages.yaml) copies it into the Pod status; the real Tekton controller then reads
// results, step start times and exit codes from the termination messages, as on GKE.
//
// Rules kept from Tekton v1.9's entrypoint:
// - the message is a JSON array of {key, value, type}: declared task results (type 1, only
//   names in the step's `-results` argument), step results (type 4, `-step_results`), then
//   StartedAt (type 3, millisecond RFC 3339);
// - results larger than 4096 bytes of JSON are not written: the step exits 1 with only
//   StartedAt in its message, and later steps still run;
// - after a failed step, later steps are skipped: exit 1, Reason "Skipped";
// - with `onError: continue`, a failing step exits 0 and reports its ExitCode (type 3).
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';

export const OUTCOME_ANNOTATION = 'kwok.slsa-ml.dev/outcome';
const MAX_MESSAGE = 4096;
const TASK_RESULT = 1;
const INTERNAL = 3;
const STEP_RESULT = 4;

/** What one step did. Result values: strings are written to the result file as they are, anything else as JSON. */
export interface StepOutcome {
  readonly exitCode?: number;
  readonly results?: Readonly<Record<string, unknown>>;
  readonly stepResults?: Readonly<Record<string, unknown>>;
  /** The digest the runtime resolved the image to; defaults from the image reference (imageIdFor). */
  readonly imageID?: string;
  /** When it really ran (a step run on this machine); otherwise the steps share the Pod's running time. */
  readonly startedAt?: Date;
  readonly finishedAt?: Date;
}

/** Step outcomes by step name (the container name without `step-`); a missing step exits 0 with no results. */
export type StepOutcomes = Readonly<Record<string, StepOutcome>>;

interface ContainerOutcome {
  exitCode: number;
  reason: string;
  message: string;
  imageID: string;
  startedAt: string;
  finishedAt: string;
}

export interface PodOutcome {
  phase: 'Succeeded' | 'Failed';
  containers: Record<string, ContainerOutcome>;
}

/** Go's encoding/json output for the same value (it escapes <, >, & and U+2028/9), so lengths match Tekton's. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The imageID a kubelet would report: `<registry>/<repository>@sha256:<digest>`. A reference
 * pinned by digest keeps its digest; a tag-only reference gets a stand-in digest derived from
 * the reference (there is no registry here to resolve it).
 */
export function imageIdFor(image: string): string {
  const at = image.indexOf('@');
  const named = at >= 0 ? image.slice(0, at) : image;
  const digest = at >= 0 ? image.slice(at + 1) : `sha256:${createHash('sha256').update(`slsa-ml local stand-in for ${image}`).digest('hex')}`;
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  let repo = colon > slash ? named.slice(0, colon) : named;
  const first = repo.split('/')[0] ?? '';
  if (!repo.includes('/')) repo = `docker.io/library/${repo}`;
  else if (!/[.:]/.test(first) && first !== 'localhost') repo = `docker.io/${repo}`;
  return `${repo}@${digest}`;
}

/** The value of an entrypoint flag (`-name value`) in a step container's args. */
export function entrypointFlag(container: V1Container, name: string): string | undefined {
  const args = container.args ?? [];
  const end = args.indexOf('--');
  const flags = end >= 0 ? args.slice(0, end) : args;
  const i = flags.indexOf(`-${name}`);
  return i >= 0 ? flags[i + 1] : undefined;
}

const listFlag = (c: V1Container, name: string): string[] => (entrypointFlag(c, name) ?? '').split(',').filter((s) => s !== '');

export const stepContainers = (pod: V1Pod): V1Container[] => (pod.spec?.containers ?? []).filter((c) => c.name.startsWith('step-'));

function resultEntries(container: V1Container, step: string, values: Readonly<Record<string, unknown>> | undefined, flag: string, type: number): Array<{ key: string; value: string; type: number }> {
  const declared = listFlag(container, flag);
  return Object.entries(values ?? {}).map(([key, value]) => {
    if (!declared.includes(key)) {
      throw new Error(`step ${step} reports ${key}, but Tekton's entrypoint only reports declared ${flag === 'results' ? 'task' : 'step'} results (${declared.join(', ') || 'none'})`);
    }
    return { key, value: typeof value === 'string' ? value : JSON.stringify(value), type };
  });
}

interface StepReport {
  readonly container: ContainerOutcome;
  /** Whether the step wrote an error post file, so every later step is skipped. */
  readonly stopsLaterSteps: boolean;
}

function stepOutcome(container: V1Container, outcome: StepOutcome, skipped: boolean, startedAt: Date, finishedAt: Date): StepReport {
  const step = container.name.slice('step-'.length);
  const started = { key: 'StartedAt', value: startedAt.toISOString(), type: INTERNAL };
  const base = { imageID: outcome.imageID ?? imageIdFor(container.image ?? ''), startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString() };
  const report = (exitCode: number, entries: unknown[], stopsLaterSteps: boolean): StepReport => ({
    container: { ...base, exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', message: goJson(entries) },
    stopsLaterSteps,
  });
  if (skipped) return report(1, [started, { key: 'Reason', value: 'Skipped', type: INTERNAL }], true);
  const results = [
    ...resultEntries(container, step, outcome.results, 'results', TASK_RESULT),
    ...resultEntries(container, step, outcome.stepResults, 'step_results', STEP_RESULT),
  ];
  // The post file is already written when the results turn out too long: later steps run.
  if (goJson(results).length > MAX_MESSAGE) return report(1, [started], false);
  const exitCode = outcome.exitCode ?? 0;
  if (exitCode !== 0 && entrypointFlag(container, 'on_error') === 'continue') {
    return report(0, [...results, started, { key: 'ExitCode', value: String(exitCode), type: INTERNAL }], false);
  }
  return report(exitCode, [...results, started], exitCode !== 0);
}

/**
 * The whole Pod's outcome from its steps' outcomes. Steps without times of their own share the
 * window from `start` (when the Pod started running) to `end` in order; skipped steps take none.
 */
export function podOutcome(pod: V1Pod, outcomes: StepOutcomes, start: Date, end = new Date()): PodOutcome {
  const steps = stepContainers(pod);
  const slot = Math.max(0, end.getTime() - start.getTime()) / Math.max(1, steps.length);
  const containers: Record<string, ContainerOutcome> = {};
  let clock = start.getTime();
  let skipping = false;
  for (const container of steps) {
    const outcome = outcomes[container.name.slice('step-'.length)] ?? {};
    const begin = outcome.startedAt ?? new Date(clock);
    const finish = outcome.finishedAt ?? new Date(begin.getTime() + (skipping ? 0 : slot));
    clock = finish.getTime();
    const report = stepOutcome(container, outcome, skipping, begin, finish);
    containers[container.name] = report.container;
    skipping ||= report.stopsLaterSteps;
  }
  for (const container of sidecars(pod)) containers[container.name] = sidecarOutcome(container, start, end);
  const phase = Object.values(containers).some((c) => c.exitCode !== 0) ? 'Failed' : 'Succeeded';
  return { phase, containers };
}

const sidecars = (pod: V1Pod): V1Container[] => (pod.spec?.containers ?? []).filter((c) => !c.name.startsWith('step-'));

/** Tekton stops sidecars once the steps are done. */
function sidecarOutcome(container: V1Container, start: Date, end: Date): ContainerOutcome {
  return { exitCode: 0, reason: 'Completed', message: '', imageID: imageIdFor(container.image ?? ''), startedAt: start.toISOString(), finishedAt: end.toISOString() };
}

/** Names of the steps of a Pod, in order (`step-train` -> `train`). */
export function stepNames(pod: V1Pod): string[] {
  return stepContainers(pod).map((c) => c.name.slice('step-'.length));
}
