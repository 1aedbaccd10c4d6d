import type { StoredObject } from '../storage/index.ts';

export interface FileDigest {
  /** POSIX path relative to the model root. */
  path: string;
  sha256: string;
  size: number;
}

export interface ModelDigest {
  kind: 'file' | 'directory';
  /** File: sha256 of its bytes. Directory: OpenSSF model-signing v1.0 root digest. */
  sha256: string;
  fileCount: number;
  totalBytes: number;
  /** Directory models only: every file in canonical (model-signing) order. */
  files?: ReadonlyArray<FileDigest>;
}

export interface DigestProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface DigestOptions {
  /** Files hashed at once (default 4). */
  concurrency?: number;
  onProgress?: (p: DigestProgress) => void;
  signal?: AbortSignal;
  /**
   * Storage models only: called with every object of the model as it is listed, before anything
   * is hashed; throw to refuse the model (e.g. too many files, or an object older than the run).
   */
  admit?: (object: StoredObject) => void;
  /**
   * Storage models only: every chunk is also written here as it is hashed, so the copy holds
   * exactly the bytes measured and nothing is read twice (slsa-ml pull).
   */
  copyTo?: CopySink;
}

/** Where a measured model's files are copied: one target per file, by its model-relative path. */
export interface CopySink {
  /** `path`: POSIX path relative to the model root; a single-file model's own name. */
  open(path: string): Promise<CopyTarget>;
}

export interface CopyTarget {
  /** Resolves once the chunk is written: the next chunk is read only then (memory stays flat). */
  write(chunk: Uint8Array): Promise<void>;
  /** Several chunks in one call, in order (a model's large downloads use it when present). */
  writev?(chunks: readonly Uint8Array[]): Promise<void>;
  /** Called once, whether the copy finished or failed. */
  close(): Promise<void>;
}

/** Bytes hashed so far for one file; called as data flows. */
export type BytesCallback = (bytes: number) => void;

export interface HashResult {
  sha256: string;
  size: number;
}

export const DEFAULT_CONCURRENCY = 4;
