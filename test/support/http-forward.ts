// A CI job runs slsa-ml as its own process, out of reach of the nock-served Sigstore stand-ins in
// the test's process: a local server forwards its Fulcio and Rekor requests to them.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Sends the request's body to `target` (a POST, as Fulcio's and Rekor's calls are) and relays the answer. */
export async function forward(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const answer = await fetch(target, { method: 'POST', body: Buffer.concat(chunks), headers: { 'content-type': req.headers['content-type'] ?? 'application/json' } });
  res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
}

/** Listens on a free loopback port; resolves with the server's base URL. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}
