// The Cloud Storage client behind a corporate proxy: an https endpoint (Google's) is reached
// through $HTTPS_PROXY with CONNECT, TLS to the endpoint inside the tunnel, unless $NO_PROXY names
// it; a plain-http endpoint (an emulator) is always direct.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, request, type Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { gcsAgent } from '../../src/storage/gcs-http.ts';
import { connectProxy } from '../support/connect-proxy.ts';
import { makeTestTls } from '../support/tls.ts';

const tls = makeTestTls();
const servers: Server[] = [];
after(() => { for (const s of servers) { s.closeAllConnections(); s.close(); } });

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const endpointPort = await listen(createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.writeHead(200).end('{"name":"m"}')));
const { proxy, tunnels } = connectProxy();
const proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;

function get(agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: endpointPort, path: '/storage/v1/b/b/o/m', agent, ca: tls.caPem, timeout: 5000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('the Cloud Storage client and HTTPS_PROXY', () => {
  const endpoint = new URL(`https://127.0.0.1:${endpointPort}`);

  it('goes through $HTTPS_PROXY (or $https_proxy) with CONNECT', async () => {
    tunnels.length = 0;
    assert.equal(await get(gcsAgent(endpoint, { HTTPS_PROXY: proxyUrl }) as Agent), 200);
    assert.equal(await get(gcsAgent(endpoint, { https_proxy: proxyUrl }) as Agent), 200);
    assert.deepEqual(tunnels, [endpoint.host, endpoint.host]);
  });

  it('goes direct when $NO_PROXY names the endpoint, when no proxy is set, and to a plain-http emulator', async () => {
    tunnels.length = 0;
    assert.equal(await get(gcsAgent(endpoint, { HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }) as Agent), 200);
    assert.equal(await get(gcsAgent(endpoint, {}) as Agent), 200);
    assert.deepEqual(tunnels, []);
    assert.equal((gcsAgent(new URL('http://127.0.0.1:4443'), { HTTPS_PROXY: proxyUrl }) as Agent & { options: { proxyEnv?: unknown } }).options.proxyEnv, undefined);
  });
});
