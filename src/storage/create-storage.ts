// The one place a Storage is assembled from configuration.
import { FileStorage } from './file-storage.ts';
import { GcsStorage, createGcsClient } from './gcs-storage.ts';
import { RoutingStorage } from './routing-storage.ts';
import type { Storage, StorageConfig } from './types.ts';

export function createStorage(config: StorageConfig = {}): Storage {
  const file = new FileStorage(config.fileRoot);
  let gcs: GcsStorage | undefined;
  // Built on first gs:// use, so file-only runs never look for cloud credentials.
  const gs = (): GcsStorage => (gcs ??= new GcsStorage(createGcsClient(config.gcs ?? {}, config.deadlines?.requestMs, config.retry), { readStallMs: config.deadlines?.readStallMs }));
  return new RoutingStorage({ gs, file: () => file });
}
