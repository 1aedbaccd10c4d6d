// The operator's HTTP face for the kubelet and Prometheus: /healthz (liveness), /readyz
// (readiness) and /metrics. It answers on every replica, leader or not.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

export interface HealthServerOptions {
  port: number;
  host: string;
  metrics: Metrics;
  isReady: () => boolean;
  isHealthy: () => boolean;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => reply(res, 500, `error: ${(err as Error).message}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HealthServerOptions): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') return reply(res, 404, 'not found');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return reply(res, 405, 'method not allowed');
  }
  if (path === '/metrics') {
    const { registry } = options.metrics;
    return reply(res, 200, await registry.metrics(), registry.contentType);
  }
  const [check, failure] = path === '/healthz' ? [options.isHealthy, 'not healthy'] : [options.isReady, 'not ready'];
  return passes(check) ? reply(res, 200, 'ok') : reply(res, 503, failure);
}

function passes(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false; // a probe that cannot tell is a failing probe
  }
}

function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : `${body.endsWith('\n') ? body : `${body}\n`}`);
}
