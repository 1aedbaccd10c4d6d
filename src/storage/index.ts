export { createStorage } from './create-storage.ts';
export { StorageError } from './errors.ts';
export type { StorageErrorCode } from './errors.ts';
export { FileStorage } from './file-storage.ts';
export { GcsStorage, createGcsClient } from './gcs-storage.ts';
export type { Created, Storage, StorageConfig, StoredObject } from './types.ts';
export { md5Base64 } from './gcs-http.ts';
export { formatStorageUri, objectName, parseStorageUri } from './uri.ts';
export type { StorageLocation } from './uri.ts';
