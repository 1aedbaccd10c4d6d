/** Messages between the digest worker pool and its threads. */
export type WorkerRequest = { type: 'hash'; path: string } | { type: 'abort' };

export type WorkerReply =
  | { type: 'bytes'; bytes: number }
  | { type: 'done'; sha256: string; size: number }
  | { type: 'error'; code: string; message: string };
