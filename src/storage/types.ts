import type { Readable } from 'node:stream';

export interface StoredObject {
  uri: string;
  size: number;
  /** GCS object generation; absent for file://. */
  generation?: string;
  /**
   * When the object was created, as the store records it (GCS `timeCreated`; for file:// the
   * file's birth time where the filesystem keeps one, else its change time). Never set by a client.
   */
  created?: Date;
}

/**
 * Object storage as slsa-ml needs it. URIs are `gs://bucket/key` (optionally `#generation`,
 * as gsutil writes it) or `file:///abs/path`. Errors are StorageError.
 */
export interface Storage {
  /** Every object whose name starts with the prefix, recursively; order not guaranteed. */
  list(prefixUri: string): AsyncIterable<StoredObject>;
  /** Undefined when the object does not exist. */
  stat(uri: string): Promise<StoredObject | undefined>;
  /**
   * stat() of several names, in order, answered where the store can by one request (GCS: one
   * listing of the range the names span, when they share a bucket): what each name holds as of
   * that one moment.
   */
  statAll(uris: readonly string[]): Promise<Array<StoredObject | undefined>>;
  /** A byte stream of the object; some failures (GCS) surface as a stream error. */
  openRead(uri: string): Promise<Readable>;
  /** The whole object, refused with TOO_LARGE beyond `maxBytes` without buffering more. */
  read(uri: string, maxBytes: number): Promise<Buffer>;
  /**
   * Writes a new object; ALREADY_EXISTS when one exists. Never overwrites. Resolves with what the
   * store reports about the object it created, where it reports anything.
   */
  createOnly(uri: string, data: Buffer, contentType: string): Promise<Created>;
}

/** The store's own account of an object it has just created. */
export interface Created {
  /**
   * Base64 MD5 of the bytes the store holds under the name now, computed by the store (GCS
   * `md5Hash` in the create response). Absent where the store reports none (file://).
   */
  readonly md5?: string;
  readonly size?: number;
}

/**
 * Retries of idempotent gs:// calls (reads, listings, downloads until their first byte, create-only
 * writes) on 408/429/5xx, connection failures and corrupted uploads, with exponential backoff,
 * full jitter and the service's Retry-After. For callers without backoff of their own (the CLI,
 * the action); the operator retries whole reconciles and leaves these off.
 */
export interface RetryPolicy {
  /** No attempt starts later than this after the first; each attempt keeps its own deadline. */
  readonly budgetMs: number;
  /** The first backoff (default 250 ms); it doubles per attempt. */
  readonly initialDelayMs?: number;
  /** Cap on a backoff and on a Retry-After (default 8 s). */
  readonly maxDelayMs?: number;
}

export interface StorageConfig {
  /**
   * Settings for gs://; the client is built on first use (Application Default Credentials).
   * `userProject` is the billing project, sent as `userProject` on every request (Requester Pays).
   * `proxyEnv`: where HTTPS_PROXY and NO_PROXY are read (default: the process's environment).
   */
  gcs?: { apiEndpoint?: string; userProject?: string; proxyEnv?: NodeJS.ProcessEnv };
  /** Deadlines for gs:// (defaults: 30 s per request, 60 s without a byte on a read). */
  deadlines?: { requestMs?: number; readStallMs?: number };
  /** Retries of gs:// calls; none when absent. */
  retry?: RetryPolicy;
  /** When set, file:// URIs must lie under this absolute directory. */
  fileRoot?: string;
}
