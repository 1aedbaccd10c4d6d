// An HTTP relay of our own in front of a real server (fake-gcs-server) that answers chosen
// requests itself with an error status, as an overloaded Cloud Storage front end does, and
// forwards the rest unchanged. The fault proxy (fault-proxy.ts) breaks TCP; this breaks HTTP.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * For each request: undefined to forward it, a status to answer with instead, or `{ after }` to
 * forward it and then answer the client `after` in place of the real response (the work done,
 * the answer lost on the way back).
 */
export type Fault = (req: IncomingMessage, n: number) => number | { after: number } | undefined;

export interface HttpFaultRelay {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Every request as "METHOD /path?query", in arrival order, and the number answered by a fault. */
  readonly seen: string[];
  readonly faulted: () => number;
  close(): Promise<void>;
}

export async function startHttpFaultRelay(target: string, fault: Fault): Promise<HttpFaultRelay> {
  const upstream = new URL(target);
  const seen: string[] = [];
  let faulted = 0;
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    const decision = fault(req, seen.length);
    const answer = (status: number): void => {
      faulted++;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: status, message: 'injected by the test relay' } }));
    };
    if (typeof decision === 'number') {
      req.resume();
      req.on('end', () => answer(decision));
      return;
    }
    const out = request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host }, timeout: 10_000 }, (real) => {
      if (decision) {
        real.resume();
        real.on('end', () => answer(decision.after));
        return;
      }
      res.writeHead(real.statusCode ?? 502, real.headers);
      real.pipe(res);
    });
    out.on('timeout', () => out.destroy(new Error('upstream deadline')));
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    faulted: () => faulted,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
