// A watch response holding a record that does not parse, end to end through the reflector, the
// real request code and an in-process HTTP server in the API server's place: the record is skipped
// with one log line and one count, and the watch goes on; a response that no longer splits into
// records ends the watch and the reflector lists again, instead of reading the same bytes forever.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Reflector, type ClusterAccess, type ObjectEvent } from '../../operator/kube/index.ts';
import { createMetrics } from '../../operator/observability/metrics.ts';

const PATH = '/apis/tekton.dev/v1/namespaces/ml/taskruns';
const SECRET = 'tenant-written-s3cr3t';

interface Request { resourceVersion: string | null; sendInitialEvents: string | null }

const line = (value: unknown): string => `${JSON.stringify(value)}\n`;
const added = (name: string, rv: string): string => line({ type: 'ADDED', object: { metadata: { name, namespace: 'ml', resourceVersion: rv, annotations: { note: SECRET } } } });
const initialEventsEnd = (rv: string): string => line({ type: 'BOOKMARK', object: { metadata: { resourceVersion: rv, annotations: { 'k8s.io/initial-events-end': 'true' } } } });

describe('a watch response with a record that does not parse', () => {
  const requests: Request[] = [];
  /** What each watch request is answered with, in turn; later requests are held open, silent. */
  let answers: string[][] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ resourceVersion: url.searchParams.get('resourceVersion'), sendInitialEvents: url.searchParams.get('sendInitialEvents') });
    res.writeHead(200, { 'content-type': 'application/json' });
    const parts = answers.shift();
    if (!parts) {
      open.add(res);
      return;
    }
    // One write per part, so records and the broken bytes arrive in separate chunks too.
    void (async () => {
      for (const part of parts) {
        res.write(part);
        await sleep(2);
      }
      res.end();
    })();
  });
  let access: ClusterAccess;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    access = { getCurrentCluster: () => ({ server: address }), applyToHTTPSOptions: () => Promise.resolve() };
  });
  after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));

  function watching(): { reflector: Reflector; seen: Array<[ObjectEvent, string | undefined]>; logs: Array<Record<string, unknown>>; restarts: string[]; metrics: ReturnType<typeof createMetrics> } {
    requests.length = 0;
    const seen: Array<[ObjectEvent, string | undefined]> = [];
    const logs: Array<Record<string, unknown>> = [];
    const restarts: string[] = [];
    const metrics = createMetrics();
    const reflector = new Reflector({
      kubeConfig: access,
      path: PATH,
      relistSeconds: 3600,
      stallSeconds: 60,
      logger: pino({ level: 'info' }, { write: (s: string) => logs.push(JSON.parse(s) as Record<string, unknown>) }),
      onObject: (type, obj) => seen.push([type, obj.metadata?.name]),
      onRestart: (reason) => restarts.push(reason),
      onUnparseable: (resource) => metrics.watchUnparseable.inc(resource),
    });
    reflector.start();
    return { reflector, seen, logs, restarts, metrics };
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!condition()) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await sleep(5);
    }
  }

  const counted = async (metrics: ReturnType<typeof createMetrics>): Promise<string | undefined> =>
    /^slsa_ml_watch_unparseable_records_total\{resource="taskruns"\} (\d+)$/m.exec(await metrics.registry.metrics())?.[1];

  it('skips it with one log line and one count, and goes on with the next events and the next watch', async () => {
    const badEscape = `{"type":"ADDED","object":{"metadata":{"name":"b","annotations":{"note":"${SECRET}\\x"}}}}\n`;
    answers = [
      // The streamed state, with a bad escape in one event between good ones.
      [added('a', '2'), badEscape, added('c', '3'), initialEventsEnd('5')],
      // The resumed watch: an event that parses but is not one, then a good one.
      [line({ type: 'MODIFIED', object: SECRET }), added('d', '6')],
    ];
    const { reflector, seen, logs, restarts, metrics } = watching();
    await until(() => requests.length >= 3, 'the second resume');
    await reflector.stop();
    assert.deepEqual(seen, [['SYNC', 'a'], ['SYNC', 'c'], ['ADDED', 'd']]);
    assert.deepEqual(requests.map((r) => r.resourceVersion), [null, '5', '6'], 'each watch resumes past what it read: nothing is read twice');
    assert.deepEqual(restarts, []);
    const skipped = logs.filter((l) => /cannot be parsed/.test(String(l.msg)));
    assert.equal(skipped.length, 2, 'one line per skipped record');
    assert.deepEqual(skipped.map((l) => [l.level, l.path, l.reason]), [
      [40, PATH, `not valid JSON (at character ${badEscape.indexOf('\\x') + 1})`],
      [40, PATH, 'not a watch event: it needs a string `type` and an object `object`'],
    ]);
    assert.ok(!JSON.stringify(logs).includes(SECRET), 'no tenant-written text is logged');
    assert.equal(await counted(metrics), '2');
  });

  it('ends the watch when the response no longer splits into records, and lists again', async () => {
    answers = [
      // A closing bracket with nothing open: what follows cannot be told apart reliably.
      [added('a', '2'), '}\n', added('b', '3'), initialEventsEnd('5')],
      [added('a', '2'), added('b', '3'), initialEventsEnd('5')],
    ];
    const { reflector, seen, logs, restarts, metrics } = watching();
    await until(() => requests.length >= 3, 'the resume after the relist');
    await reflector.stop();
    assert.deepEqual(seen, [['SYNC', 'a'], ['SYNC', 'a'], ['SYNC', 'b']]);
    assert.deepEqual(requests.map((r) => [r.resourceVersion, r.sendInitialEvents]), [[null, 'true'], [null, 'true'], ['5', null]], 'listed again, then resumed');
    assert.deepEqual(restarts, ['resync']);
    const resync = logs.filter((l) => /cannot be split/.test(String(l.msg)));
    assert.equal(resync.length, 1);
    assert.match(String(resync[0]?.err), /a closing bracket with nothing open \(at byte \d+\)/);
    assert.equal(await counted(metrics), '1');
  });
});
