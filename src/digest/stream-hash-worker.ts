// Worker-thread entry of StreamHasher: SHA-256 of the chunks the calling thread transfers here.
// Messages on one port arrive in order, so a stream's chunks are hashed in the order they were read.
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { StreamHashReply, StreamHashRequest } from './stream-hash-protocol.ts';

const port = parentPort;
const hashes = new Map<number, Hash>();

port?.on('message', (msg: StreamHashRequest) => {
  switch (msg.type) {
    case 'update': {
      let hash = hashes.get(msg.stream);
      if (!hash) hashes.set(msg.stream, (hash = createHash('sha256')));
      for (const chunk of msg.chunks) hash.update(chunk);
      release(msg.chunks);
      reply({ type: 'hashed', stream: msg.stream });
      return;
    }
    case 'end': {
      const sha256 = (hashes.get(msg.stream) ?? createHash('sha256')).digest('hex');
      hashes.delete(msg.stream);
      reply({ type: 'digest', stream: msg.stream, sha256 });
      return;
    }
    case 'drop':
      hashes.delete(msg.stream);
      return;
  }
});

/**
 * Frees the chunks' memory now: this thread allocates next to nothing, so its garbage collector
 * would otherwise run rarely and let hundreds of MB of transferred chunks pile up.
 */
function release(chunks: readonly Uint8Array[]): void {
  for (const chunk of chunks) (chunk.buffer as ArrayBuffer).transfer(0);
}

function reply(msg: StreamHashReply): void {
  port?.postMessage(msg);
}
