/**
 * Messages between the digest worker pool and its threads. A hashing thread never returns
 * to its event loop mid-file, so abort is a flag in shared memory it checks every chunk.
 */
export type WorkerRequest = { type: 'hash'; path: string; abortFlag: SharedArrayBuffer };

export type WorkerReply =
  | { type: 'bytes'; bytes: number }
  | { type: 'done'; sha256: string; size: number }
  | { type: 'error'; code: string; message: string };
