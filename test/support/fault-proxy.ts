// A TCP proxy of our own that sits in front of a real server (fake-gcs-server, the KMS stand-in)
// and misbehaves on demand, the way networks and overloaded services do:
//   pass   forward both ways
//   refuse reset every new connection at once (as a closed port or a full backlog looks to a client)
//   hang   accept connections and forward nothing, neither new nor already open ones
//   drip   forward responses a few bytes at a time, slowly but steadily
//   reset  forward responses until one has passed `resetAfterBytes`, then reset the connection
// Leaving `hang` drops the connections it held, as a peer that comes back would.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type FaultMode = 'pass' | 'refuse' | 'hang' | 'drip' | 'reset';

export interface FaultOptions {
  /** drip: bytes per write and pause between writes. */
  readonly dripBytes?: number;
  readonly dripIntervalMs?: number;
  /** reset: response bytes forwarded on one connection before it is reset. */
  readonly resetAfterBytes?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  set(mode: FaultMode, options?: FaultOptions): void;
  /** Connections reset by `refuse` or `reset`, and connections held by `hang`, so far. */
  readonly counts: { refused: number; reset: number; held: number };
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: FaultMode = 'pass';
  let options: FaultOptions = {};
  const counts = { refused: 0, reset: 0, held: 0 };
  const open = new Set<Socket>();
  const held = new Set<Socket>();

  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => {
      open.delete(client);
      held.delete(client);
    });
    client.on('error', () => undefined);
    if (mode === 'refuse') {
      counts.refused++;
      client.resetAndDestroy();
      return;
    }
    if (mode === 'hang') {
      counts.held++;
      held.add(client);
      return;
    }
    forward(client);
  });

  function forward(client: Socket): void {
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      if (mode === 'hang') return hold(client, upstream);
      upstream.write(chunk);
    });
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'hang') return hold(client, upstream);
      if (mode === 'reset' && sent + chunk.length > (options.resetAfterBytes ?? 0)) {
        client.write(chunk.subarray(0, Math.max(0, (options.resetAfterBytes ?? 0) - sent)));
        counts.reset++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      sent += chunk.length;
      if (mode === 'drip') return drip(client, upstream, chunk);
      client.write(chunk);
    });
  }

  function hold(client: Socket, upstream: Socket): void {
    if (held.has(client)) return;
    counts.held++;
    held.add(client);
    upstream.pause();
    client.pause();
  }

  function drip(client: Socket, upstream: Socket, chunk: Buffer): void {
    upstream.pause();
    const size = options.dripBytes ?? 64;
    let at = 0;
    const tick = (): void => {
      if (client.destroyed) return;
      client.write(chunk.subarray(at, at + size));
      at += size;
      if (at < chunk.length) setTimeout(tick, options.dripIntervalMs ?? 20);
      else upstream.resume();
    };
    tick();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    counts,
    set(next: FaultMode, nextOptions: FaultOptions = {}): void {
      if (mode === 'hang' && next !== 'hang') {
        for (const socket of held) socket.destroy();
        held.clear();
      }
      mode = next;
      options = nextOptions;
    },
    async close(): Promise<void> {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
