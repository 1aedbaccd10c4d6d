// in-toto Statement v1 carrying a SLSA provenance v1 predicate, as we emit it.
import type { BUILD_TYPE, CLOUD_BUILD_BUILD_TYPE, GITHUB_BUILD_TYPE, GITLAB_BUILD_TYPE, PIPELINE_BUILD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from './constants.ts';
import type { JsonObject, JsonValue } from './json.ts';
import type { Node, Pod, PipelineRun, TaskRun } from './kube.ts';

export type DigestSet = Record<string, string>;

/** in-toto ResourceDescriptor; `content` is base64 of the raw bytes. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: DigestSet;
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, JsonValue>;
}

/** One measured model. `name` is its object path, `uri` the full gs:// (or file://) URI. */
export interface Subject {
  name: string;
  uri?: string;
  digest: { sha256: string };
  /** JSON values only; checked and copied when the statement is built. */
  annotations?: Record<string, unknown>;
}

export interface BuildDefinition {
  buildType: typeof BUILD_TYPE | typeof PIPELINE_BUILD_TYPE | typeof GITHUB_BUILD_TYPE | typeof GITLAB_BUILD_TYPE | typeof CLOUD_BUILD_BUILD_TYPE;
  externalParameters: JsonObject;
  internalParameters?: JsonObject;
  resolvedDependencies?: ResourceDescriptor[];
}

export interface RunDetails {
  builder: { id: string; version?: Record<string, string> };
  metadata?: { invocationId?: string; startedOn?: string; finishedOn?: string };
  byproducts?: ResourceDescriptor[];
}

export interface Provenance {
  buildDefinition: BuildDefinition;
  runDetails: RunDetails;
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: typeof PREDICATE_TYPE;
  predicate: Provenance;
}

export interface ProvenanceSettings {
  /** Identifies this operator installation (runDetails.builder.id). */
  builderId: string;
  /** e.g. { 'slsa-ml': '0.1.0' }; the Tekton release seen on the Pod is added as 'tekton-pipelines'. */
  builderVersion: Record<string, string>;
  /**
   * Operator configuration that affects the output, recorded as internalParameters.operatorConfig
   * (e.g. allowed storage prefixes). It is published with every statement: never put secrets here.
   */
  operatorConfig?: Record<string, unknown>;
  /** URI schemes an output hint may use; default ['gs']. Add 'file' for the local demo. */
  outputSchemes?: readonly string[];
}

export interface BuildStatementInput {
  taskRun: TaskRun;
  pod?: Pod;
  node?: Node;
  /** Why there is no pod or node (e.g. the Pod is not owned by this TaskRun): recorded in internalParameters. */
  factsOmitted?: string;
  settings: ProvenanceSettings;
  subjects: Subject[];
  /**
   * The run's other models, as measured, when each model gets a statement of its own: they are
   * recorded as byproducts with the measured digest instead of the reported one.
   */
  siblings?: Subject[];
}

/** One child TaskRun of a PipelineRun, with the facts of the Pod it owns. */
export interface PipelineChild {
  /** The pipeline task it ran (status.childReferences[].pipelineTaskName, written by Tekton). */
  pipelineTask: string;
  taskRun: TaskRun;
  pod?: Pod;
  node?: Node;
  factsOmitted?: string;
}

export interface BuildPipelineStatementInput {
  pipelineRun: PipelineRun;
  /** Every child TaskRun, in the PipelineRun's childReferences order. */
  children: PipelineChild[];
  /** Children of other kinds (CustomRun, a child PipelineRun): named in the statement, not inspected. */
  uninspected?: Array<{ pipelineTask: string; kind: string; name: string }>;
  settings: ProvenanceSettings;
  /** Read the child TaskRuns' results too, type hints and byproducts (Chains' deep inspection); default true. */
  deepInspection?: boolean;
  subjects: Subject[];
  siblings?: Subject[];
}
