export { digestLocalPath } from './digest-local.ts';
export { digestStorage } from './digest-storage.ts';
export { DigestError } from './errors.ts';
export { compareModelPaths, isIgnored } from './model-path.ts';
export { rootDigest } from './root-digest.ts';
export { sha256File, sha256Stream } from './sha256.ts';
export type { CopySink, CopyTarget, DigestOptions, DigestProgress, FileDigest, ModelDigest } from './types.ts';
