// An HTTP CONNECT proxy on loopback, as a corporate proxy or `proxy-url` names one: it records
// each tunnel's target (host:port) and splices the client to it.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A proxy server (not listening yet) and the targets of the tunnels it opened. */
export function connectProxy(): { readonly proxy: Server; readonly tunnels: string[] } {
  const tunnels: string[] = [];
  const proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host ?? '', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  return { proxy, tunnels };
}
