/**
 * Messages between StreamHasher and its hashing thread. Chunks are moved, never copied, to the
 * thread (an update transfers the buffers it carries); the thread answers each update once it is
 * hashed, so the calling thread knows how much of a stream is still in flight.
 */
export type StreamHashRequest =
  | { type: 'update'; stream: number; chunks: Uint8Array[] }
  | { type: 'end'; stream: number }
  | { type: 'drop'; stream: number };

export type StreamHashReply =
  | { type: 'hashed'; stream: number }
  | { type: 'digest'; stream: number; sha256: string };
