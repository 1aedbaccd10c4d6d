// Worker-thread entry: SHA-256 runs on the calling thread in Node, so hashing several local
// files at once only uses several cores when each hash runs in its own worker.
import { parentPort } from 'node:worker_threads';
import { DigestError } from './errors.ts';
import { hashFile } from './sha256.ts';
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts';

const PROGRESS_BATCH = 2 << 20;
const port = parentPort;
let current: AbortController | undefined;

port?.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'abort') {
    current?.abort();
    return;
  }
  current = new AbortController();
  void run(msg.path, current.signal);
});

async function run(path: string, signal: AbortSignal): Promise<void> {
  let unreported = 0;
  const flush = (): void => {
    if (unreported > 0) reply({ type: 'bytes', bytes: unreported });
    unreported = 0;
  };
  try {
    const onBytes = (n: number): void => {
      unreported += n;
      if (unreported >= PROGRESS_BATCH) flush();
    };
    const result = await hashFile(path, { onBytes, signal });
    flush();
    reply({ type: 'done', sha256: result.sha256, size: result.size });
  } catch (err) {
    flush();
    const code = err instanceof DigestError ? err.code : 'READ_FAILED';
    reply({ type: 'error', code, message: err instanceof Error ? err.message : String(err) });
  }
}

function reply(msg: WorkerReply): void {
  port?.postMessage(msg);
}
