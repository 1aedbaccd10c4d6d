// runDetails: who built (this operator installation, at which versions) and when, per the TaskRun or PipelineRun.
import { TEKTON_RELEASE_ANNOTATION } from './constants.ts';
import { ProvenanceError } from './errors.ts';
import { recordField, stringField } from './json.ts';
import type { Pod, TaskRun } from './kube.ts';
import type { ProvenanceSettings, ResourceDescriptor, RunDetails } from './types.ts';

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|z|[+-]\d{2}:\d{2})$/;

export function runDetails(taskRun: TaskRun, pod: Pod | undefined, settings: ProvenanceSettings, byproducts: ResourceDescriptor[]): RunDetails {
  const details: RunDetails = {
    builder: { id: builderId(settings), version: builderVersion(pod, settings) },
    metadata: runMetadata(taskRun),
  };
  if (byproducts.length > 0) details.byproducts = byproducts;
  return details;
}

function builderId(settings: ProvenanceSettings): string {
  if (typeof settings.builderId !== 'string' || settings.builderId === '') {
    throw new ProvenanceError('BAD_SETTINGS', 'settings.builderId must be a non-empty string');
  }
  return settings.builderId;
}

/** The Tekton release observed on the Pod wins over a configured one: it is what actually ran. */
function builderVersion(pod: Pod | undefined, settings: ProvenanceSettings): Record<string, string> {
  const version: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings.builderVersion ?? {})) {
    if (typeof value !== 'string') throw new ProvenanceError('BAD_SETTINGS', `settings.builderVersion.${key} must be a string`);
    version[key] = value;
  }
  const tekton = stringField(recordField(pod?.metadata, 'annotations'), TEKTON_RELEASE_ANNOTATION);
  if (tekton) version['tekton-pipelines'] = tekton;
  return version;
}

function runMetadata(taskRun: TaskRun): NonNullable<RunDetails['metadata']> {
  const uid = stringField(taskRun.metadata, 'uid');
  if (!uid) throw new ProvenanceError('BAD_TASKRUN', `the ${taskRun.kind === 'PipelineRun' ? 'PipelineRun' : 'TaskRun'} has no metadata.uid`);
  const metadata: NonNullable<RunDetails['metadata']> = { invocationId: uid };
  const startedOn = timestamp(taskRun.status?.startTime, 'status.startTime');
  const finishedOn = timestamp(taskRun.status?.completionTime, 'status.completionTime');
  if (startedOn) metadata.startedOn = startedOn;
  if (finishedOn) metadata.finishedOn = finishedOn;
  return metadata;
}

/**
 * in-toto's timestamps are UTC with a `Z`: an offset (`+02:00`, which a cluster's clients may write)
 * is converted, as Chains does, keeping the fraction of a second as written.
 */
function inUtc(seconds: string, fraction: string, zone: string): string {
  if (zone === 'Z' || zone === 'z') return `${seconds}${fraction}Z`;
  const utc = new Date(`${seconds}${zone}`);
  if (Number.isNaN(utc.getTime())) throw new ProvenanceError('BAD_TIME', `${seconds}${fraction}${zone} is not a valid time`);
  return `${utc.toISOString().slice(0, 19)}${fraction}Z`;
}

function timestamp(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  const parts = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (parts) return inUtc(parts[1] ?? '', parts[2] ?? '', parts[3] ?? 'Z');
  throw new ProvenanceError('BAD_TIME', `${where}: ${JSON.stringify(value)} is not an RFC 3339 timestamp`);
}
