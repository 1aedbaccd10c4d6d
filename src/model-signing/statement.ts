// The in-toto Statement model_signing signs (signing.py, class Payload): one subject named after
// the model whose sha256 chains the resources' digests, the serialization parameters needed to
// hash the model again, and one resource descriptor per file. Key order follows model_signing's
// dict insertion order and the JSON is indented by two like protobuf's MessageToJson; verifiers
// parse it, so neither is load-bearing, but the bytes stay deterministic.
import { FILES_METHOD, HASH_TYPE, IGNORED_GIT_PATHS, IN_TOTO_STATEMENT_V1, MODEL_SIGNING_PREDICATE_TYPE } from './format.ts';
import { manifestRoot, type ModelManifest } from './manifest.ts';

export function modelSigningStatement(manifest: ModelManifest): object {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: manifest.modelName, digest: { sha256: manifestRoot(manifest.resources) } }],
    predicateType: MODEL_SIGNING_PREDICATE_TYPE,
    predicate: {
      serialization: { method: FILES_METHOD, hash_type: HASH_TYPE, allow_symlinks: false, ignore_paths: [...IGNORED_GIT_PATHS] },
      resources: manifest.resources.map((r) => ({ name: r.name, algorithm: HASH_TYPE, digest: r.sha256 })),
    },
  };
}

export function serializeModelSigningStatement(manifest: ModelManifest): Buffer {
  return Buffer.from(JSON.stringify(modelSigningStatement(manifest), null, 2), 'utf8');
}
