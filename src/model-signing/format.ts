// The OpenSSF model-signing v1.0 format as model_signing 1.1 (PyPI `model-signing`) writes and
// reads it. Sources: model_signing/_signing/signing.py (Payload, dsse_payload_to_manifest),
// manifest.py (_FileSerialization.serialization_parameters), hashing.py (Config.hash: the git
// paths ignored by default), _serialization/file.py (resource names relative to the model path).
export const MODEL_SIGNING_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const HASH_TYPE = 'sha256';
export const FILES_METHOD = 'files';
/**
 * Recorded relative to the model, as model_signing does when signing with its default
 * `--ignore-git-paths` (the signature file itself is outside the model for our layout, so it is
 * not listed). The same paths our digest skips at a directory model's top level.
 */
export const IGNORED_GIT_PATHS: readonly string[] = ['.git', '.gitattributes', '.github', '.gitignore'];
/** A single-file model's one resource: the file relative to itself (`Path.relative_to` gives "."). */
export const SINGLE_FILE_RESOURCE = '.';
