// The few Kubernetes shapes we read, typed loosely: values arrive as the API server returns them
// (TaskRun tekton.dev/v1, Pod and Node as plain JSON, or as the typed models a caller's client made) and
// every read below re-checks the type, because a Task can write almost anything into its results.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string | Date;
  labels?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }>;
  annotations?: Record<string, string>;
}

export interface TaskRun {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: TaskRunStatus;
}

/**
 * A PipelineRun has the same outline as a TaskRun (metadata, spec, status with results,
 * start/completion times and provenance); its status adds childReferences, pipelineSpec and
 * skippedTasks, read with the same re-checking accessors.
 */
export type PipelineRun = TaskRun;

export interface TaskRunStatus {
  startTime?: string | Date;
  completionTime?: string | Date;
  podName?: string;
  results?: unknown[];
  steps?: unknown[];
  sidecars?: unknown[];
  provenance?: {
    refSource?: { uri?: string; digest?: Record<string, string>; entryPoint?: string };
    featureFlags?: Record<string, unknown>;
  };
  [field: string]: unknown;
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface Container {
  name?: string;
  resources?: ResourceRequirements;
}

export interface Pod {
  metadata?: ObjectMeta;
  spec?: { nodeName?: string; containers?: Container[]; initContainers?: Container[] };
}

export interface Node {
  metadata?: ObjectMeta;
}
