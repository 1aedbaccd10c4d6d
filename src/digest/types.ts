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
}

/** Bytes hashed so far for one file; called as data flows. */
export type BytesCallback = (bytes: number) => void;

export interface HashResult {
  sha256: string;
  size: number;
}

export const DEFAULT_CONCURRENCY = 4;
