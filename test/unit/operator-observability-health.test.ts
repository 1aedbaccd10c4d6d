import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMetrics, startHealthServer, type HealthServer } from '../../operator/observability/index.ts';

describe('when the kubelet and Prometheus call the health server', () => {
  const state = { ready: false, healthy: true };
  const metrics = createMetrics();
  let server: HealthServer;
  let base: string;

  before(async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      metrics,
      isReady: () => state.ready,
      isHealthy: () => {
        if (!state.healthy) throw new Error('probe broke');
        return true;
      },
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  it('listens on a free port when asked for port 0', () => {
    assert.ok(server.port > 0);
  });

  it('answers /readyz with 503 and a reason until ready, then 200 ok', async () => {
    state.ready = false;
    let res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /not ready/);
    state.ready = true;
    res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok\n');
  });

  it('answers /healthz with 200 ok while healthy and 503 when the check fails', async () => {
    state.healthy = true;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    state.healthy = false;
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /not healthy/);
    state.healthy = true;
  });

  it('serves /metrics in the Prometheus text format', async () => {
    metrics.queueDepth.set(3);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    assert.match(body, /^# TYPE slsa_ml_queue_depth gauge$/m);
    assert.match(body, /^slsa_ml_queue_depth 3$/m);
  });

  it('answers 404 for any other path and 405 for other methods', async () => {
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/metricsz`)).status, 404);
    const res = await fetch(`${base}/readyz`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  });

  it('refuses to start on a port already taken', async () => {
    await assert.rejects(
      startHealthServer({ port: server.port, host: '127.0.0.1', metrics, isReady: () => true, isHealthy: () => true }),
      (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE',
    );
  });
});
