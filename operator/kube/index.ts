export { idleTimeoutMs, Reflector, type ObjectEvent, type ReflectorOptions } from './reflector.ts';
export type { ObjectWithMeta } from './list.ts';
export { TektonRuns, FIELD_MANAGER, collectionPath, controllingPipelineRun, type OwnedMetadata, type OwnerReference, type RunKind, type TaskRun, type TektonRun } from './runs.ts';
export { ClusterFacts } from './cluster-facts.ts';
export { EventRecorder, type EventRecord } from './events.ts';
export { ApiStatusError, KubeApi, type ApiRequest } from './api.ts';
export { ClusterConfig, fromKubeconfigFile, inCluster, loadKubeConfig, type ClusterAccess, type KubeTimeouts } from './kubeconfig.ts';
