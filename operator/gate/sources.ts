// What an InferenceService asks KServe to load, and the ways its author could load a model around
// the storage initializer. KServe's storage initializer (our `slsa-ml pull`, as a
// ClusterStorageContainer) is the real gate; this reads the InferenceService at admission so that
// an author learns at `kubectl apply` what the initializer would refuse, and so that the ways
// around it are refused outright. Field names are KServe v1beta1's (pkg/apis/serving/v1beta1).

/** A model the InferenceService names: where, and which field names it. */
export interface ModelSource {
  readonly uri: string;
  readonly field: string;
}

/** A way around the storage initializer found in the spec, with the field that holds it. */
export interface Bypass {
  readonly field: string;
  readonly reason: string;
}

export interface InferenceServiceReading {
  readonly sources: ModelSource[];
  readonly bypasses: Bypass[];
}

// The predictor's framework shorthands (each a container with a storageUri) and the explainer's.
const PREDICTOR_FRAMEWORKS = ['model', 'sklearn', 'xgboost', 'tensorflow', 'pytorch', 'triton', 'onnx', 'huggingface', 'pmml', 'lightgbm', 'paddle'] as const;
const COMPONENTS = ['predictor', 'transformer', 'explainer'] as const;
/** KServe's own annotations; the injector reads some of them to skip or redirect the initializer. */
const INTERNAL_PREFIX = 'internal.serving.kserve.io/';
/** KServe reads a custom container's model location from this variable and injects the initializer for it. */
const STORAGE_URI_ENV = 'STORAGE_URI';
const INITIALIZER_NAME = 'storage-initializer';
/** "false" makes KServe mount /mnt/models writable into the model server. */
const READONLY_ANNOTATION = 'storage.kserve.io/readonly';

type Json = Record<string, unknown>;

export function readInferenceService(isvc: unknown): InferenceServiceReading {
  const sources: ModelSource[] = [];
  const bypasses: Bypass[] = [];
  const root = object(isvc);
  internalKeys(object(root.metadata), 'metadata', bypasses);
  const spec = object(root.spec);
  for (const component of COMPONENTS) {
    const part = spec[component];
    if (part === undefined || part === null) continue;
    readComponent(object(part), `spec.${component}`, component === 'predictor', { sources, bypasses });
  }
  return { sources, bypasses };
}

/**
 * KServe copies an InferenceService's and each component's labels and annotations onto the Pod,
 * and its injector reads some internal ones (the agent annotation, the local-model label) to skip
 * the storage initializer or to serve the model from a PVC instead.
 */
function internalKeys(meta: Json, path: string, bypasses: Bypass[]): void {
  if (object(meta.annotations)[READONLY_ANNOTATION] === 'false') {
    bypasses.push({ field: `${path}.annotations[${READONLY_ANNOTATION}]`, reason: 'mounts the model directory writable into the model server, which could then change the verified files' });
  }
  for (const field of ['annotations', 'labels'] as const) {
    for (const key of Object.keys(object(meta[field]))) {
      if (key.startsWith(INTERNAL_PREFIX)) bypasses.push({ field: `${path}.${field}[${key}]`, reason: `${INTERNAL_PREFIX} keys are KServe's own; its storage initializer injector reads some of them to skip or redirect the model download` });
    }
  }
}

function readComponent(part: Json, path: string, predictor: boolean, out: InferenceServiceReading): void {
  internalKeys(part, path, out.bypasses);
  for (const name of PREDICTOR_FRAMEWORKS) {
    const framework = part[name];
    if (framework === undefined || framework === null) continue;
    const f = object(framework);
    if (typeof f.storageUri === 'string') out.sources.push({ uri: f.storageUri, field: `${path}.${name}.storageUri` });
    if (f.storage !== undefined && f.storage !== null) out.bypasses.push({ field: `${path}.${name}.storage`, reason: 'a storage spec (a key in the storage-config Secret) is read by KServe\'s own initializer; name the model with storageUri gs://… instead' });
  }
  // The explainer's and the worker's shorthand keep storageUri on the component itself.
  if (typeof part.storageUri === 'string') out.sources.push({ uri: part.storageUri, field: `${path}.storageUri` });
  readContainers(part, path, predictor, out);
  const worker = part.workerSpec;
  if (worker !== undefined && worker !== null) readContainers(object(worker), `${path}.workerSpec`, predictor, out);
}

function readContainers(part: Json, path: string, predictor: boolean, out: InferenceServiceReading): void {
  for (const [i, c] of list(part.initContainers).entries()) {
    if (object(c).name === INITIALIZER_NAME) {
      out.bypasses.push({ field: `${path}.initContainers[${i}]`, reason: `an init container named ${INITIALIZER_NAME} makes KServe skip injecting the storage initializer` });
    }
  }
  for (const [i, c] of list(part.containers).entries()) {
    const container = object(c);
    const uri = list(container.env).map(object).find((e) => e.name === STORAGE_URI_ENV);
    if (typeof uri?.value === 'string' && uri.value !== '') {
      out.sources.push({ uri: uri.value, field: `${path}.containers[${i}].env[${STORAGE_URI_ENV}]` });
    } else if (predictor) {
      // A custom predictor with no STORAGE_URI gets no initializer: it would fetch its model itself.
      out.bypasses.push({ field: `${path}.containers[${i}]`, reason: `a custom predictor container without a ${STORAGE_URI_ENV} variable loads its model by itself, past the storage initializer` });
    }
  }
}

function object(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
