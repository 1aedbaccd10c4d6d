// Worker-thread entry: SHA-256 runs on the calling thread in Node, so hashing several local
// files at once only uses several cores when each hash runs in its own thread.
import { parentPort } from 'node:worker_threads';
import { DigestError } from './errors.ts';
import { hashFileSync } from './hash-file-sync.ts';
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts';

const PROGRESS_BATCH = 2 << 20;
const port = parentPort;

port?.on('message', (msg: WorkerRequest) => {
  const flag = new Int32Array(msg.abortFlag);
  let unreported = 0;
  const flush = (): void => {
    if (unreported > 0) reply({ type: 'bytes', bytes: unreported });
    unreported = 0;
  };
  try {
    const result = hashFileSync(
      msg.path,
      (n) => {
        unreported += n;
        if (unreported >= PROGRESS_BATCH) flush();
      },
      () => Atomics.load(flag, 0) !== 0,
    );
    flush();
    reply({ type: 'done', sha256: result.sha256, size: result.size });
  } catch (err) {
    flush();
    const code = err instanceof DigestError ? err.code : 'READ_FAILED';
    reply({ type: 'error', code, message: err instanceof Error ? err.message : String(err) });
  }
});

function reply(msg: WorkerReply): void {
  port?.postMessage(msg);
}
