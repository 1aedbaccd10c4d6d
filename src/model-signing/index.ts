export { IGNORED_GIT_PATHS, MODEL_SIGNING_PREDICATE_TYPE, SINGLE_FILE_RESOURCE } from './format.ts';
export { modelSigningKeyHint, modelSigningKeyNaming } from './key-naming.ts';
export { manifestOf, manifestRoot, modelNameOf } from './manifest.ts';
export type { ManifestResource, Measured, ModelManifest } from './manifest.ts';
export { signModelSigningPayload } from './sign.ts';
export { modelSigningStatement, serializeModelSigningStatement } from './statement.ts';
export { verifyModelSignature } from './verify-on-demand.ts';
export type { ModelSignatureRequest } from './verify.ts';
