// What the operator records on a TaskRun: annotations and a label under slsa-ml.dev/, which the
// Tekton Dashboard shows and `kubectl get taskruns -l slsa-ml.dev/provenance=signed` filters on.
// Each key has one meaning; the seal (seal.ts) binds them to the TaskRun's UID so that values a
// tenant wrote never pass for ours.
import type { OwnedMetadata } from '../kube/index.ts';

export const ANNOTATION = {
  /** `true` | `failed` | `skipped` */
  signed: 'slsa-ml.dev/signed',
  /** Comma-separated URIs of the stored Sigstore bundles (signed only). */
  bundle: 'slsa-ml.dev/bundle',
  /** `CODE: one-line reason` (failed and skipped). */
  reason: 'slsa-ml.dev/reason',
  /** Comma-separated `<log URL>#<logIndex>` of the bundles' transparency-log entries (signed, with transparency.url). */
  transparency: 'slsa-ml.dev/transparency',
  /** Our MAC over the UID and the values above; see seal.ts. */
  seal: 'slsa-ml.dev/seal',
} as const;
/** `signed` | `failed` | `skipped`, for label selectors. */
export const LABEL = 'slsa-ml.dev/provenance';
export const FINALIZER = 'slsa-ml.dev/provenance';
/** Every key prefix we own; nobody else may set keys under it (admission policy, seal). */
export const KEY_PREFIX = 'slsa-ml.dev/';

export type Outcome =
  | { readonly kind: 'signed'; readonly bundles: readonly string[]; readonly entries?: readonly string[]; readonly warning?: string }
  | { readonly kind: 'failed'; readonly code: string; readonly reason: string }
  /** Nothing to attest and nothing wrong (e.g. every output is a checkpoint). */
  | { readonly kind: 'skipped'; readonly code: string; readonly reason: string };

/** The outcome's values, before sealing: what the annotations and the label will hold. */
export interface OutcomeValues {
  readonly signed: 'true' | 'failed' | 'skipped';
  readonly bundle?: string;
  readonly reason?: string;
  readonly transparency?: string;
  readonly label: 'signed' | 'failed' | 'skipped';
}

export function outcomeValues(outcome: Outcome): OutcomeValues {
  switch (outcome.kind) {
    case 'signed':
      return { signed: 'true', bundle: outcome.bundles.join(','), ...(outcome.entries?.length ? { transparency: outcome.entries.join(',') } : {}), label: 'signed' };
    case 'failed':
      return { signed: 'failed', reason: oneLine(`${outcome.code}: ${outcome.reason}`), label: 'failed' };
    case 'skipped':
      return { signed: 'skipped', reason: oneLine(`${outcome.code}: ${outcome.reason}`), label: 'skipped' };
  }
}

/** The values as they stand on a TaskRun, whoever wrote them; undefined when there is no outcome. */
export function valuesOn(meta: { annotations?: Record<string, string>; labels?: Record<string, string> }): OutcomeValues | undefined {
  const signed = meta.annotations?.[ANNOTATION.signed];
  const label = meta.labels?.[LABEL];
  if (signed === undefined && label === undefined) return undefined;
  const bundle = meta.annotations?.[ANNOTATION.bundle];
  const reason = meta.annotations?.[ANNOTATION.reason];
  const transparency = meta.annotations?.[ANNOTATION.transparency];
  return {
    signed: signed as OutcomeValues['signed'],
    label: label as OutcomeValues['label'],
    ...(bundle !== undefined ? { bundle } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(transparency !== undefined ? { transparency } : {}),
  };
}

/** The annotations and label that record `values` with `seal`. */
export function outcomeMetadata(values: OutcomeValues, seal: string): OwnedMetadata {
  const annotations: Record<string, string> = { [ANNOTATION.signed]: values.signed, [ANNOTATION.seal]: seal };
  if (values.bundle !== undefined) annotations[ANNOTATION.bundle] = values.bundle;
  if (values.reason !== undefined) annotations[ANNOTATION.reason] = values.reason;
  if (values.transparency !== undefined) annotations[ANNOTATION.transparency] = values.transparency;
  return { annotations, labels: { [LABEL]: values.label } };
}

/** Annotations are shown on one line in the Dashboard and kubectl; keep them short and flat. */
export function oneLine(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
