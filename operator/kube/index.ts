export { idleTimeoutMs, Reflector, type ObjectEvent, type ReflectorOptions } from './reflector.ts';
export type { ObjectWithMeta } from './list.ts';
export { TaskRuns, FIELD_MANAGER, type TaskRun, type OwnedMetadata } from './taskruns.ts';
export { ClusterFacts } from './cluster-facts.ts';
export { EventRecorder, type EventRecord } from './events.ts';
export { ApiStatusError, KubeApi, type ApiRequest } from './api.ts';
export { ClusterConfig, fromKubeconfigFile, inCluster, loadKubeConfig, type ClusterAccess, type KubeTimeouts } from './kubeconfig.ts';
