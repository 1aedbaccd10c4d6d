// The reflector's policy against a scripted API server (the ListWatchSource seam): what it asks
// for, what it hands to onObject, when it resumes and when it relists.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { idleTimeoutMs, Reflector, type ObjectEvent, type ObjectWithMeta } from '../../operator/kube/index.ts';
import { ApiStatusError, type ListWatchSource, type WatchEnd, type WatchHandlers, type WatchRequest } from '../../operator/kube/list.ts';

interface Call { request: WatchRequest; handlers: WatchHandlers; signal: AbortSignal }
type Step = (call: Call) => Promise<WatchEnd>;

interface Listing { items: ObjectWithMeta[]; resourceVersion: string }

class ScriptedServer implements ListWatchSource {
  readonly requests: WatchRequest[] = [];
  readonly #steps: Step[];
  /** What each paged LIST returns, in turn; the last one repeats. */
  readonly #listings: Listing[];
  lists = 0;

  constructor(steps: Step[], listings: Listing[] = [{ items: [], resourceVersion: '1' }]) {
    this.#steps = steps;
    this.#listings = listings;
  }

  watch(request: WatchRequest, handlers: WatchHandlers, signal: AbortSignal): Promise<WatchEnd> {
    this.requests.push(request);
    return (this.#steps.shift() ?? hang())({ request, handlers, signal });
  }

  list(onItem: (obj: ObjectWithMeta) => void): Promise<string> {
    this.lists++;
    const listing = (this.#listings.length > 1 ? this.#listings.shift() : this.#listings[0]) as Listing;
    for (const item of listing.items) onItem(item);
    return Promise.resolve(listing.resourceVersion);
  }
}

const tr = (name: string, resourceVersion: string): ObjectWithMeta => ({ metadata: { namespace: 'ns', name, resourceVersion } });
const bookmark = (resourceVersion: string, end = false): ObjectWithMeta => ({
  metadata: { resourceVersion, ...(end ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) },
});

function aborted(signal: AbortSignal): Promise<WatchEnd> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
}

/** A WatchList: replays `objects`, then the bookmark that closes the state at `rv`. */
function stream(objects: ObjectWithMeta[], rv: string): Step {
  return ({ handlers, signal }) => {
    handlers.opened();
    for (const obj of objects) handlers.event('ADDED', obj);
    handlers.event('BOOKMARK', bookmark(rv, true));
    return aborted(signal);
  };
}

/** A watch that delivers `events` and then ends as `end`. */
function events(list: Array<[string, ObjectWithMeta]>, end: WatchEnd = 'closed'): Step {
  return ({ handlers }) => {
    handlers.opened();
    for (const [type, obj] of list) handlers.event(type, obj);
    return Promise.resolve(end);
  };
}

function hang(): Step {
  return ({ handlers, signal }) => {
    handlers.opened();
    return aborted(signal);
  };
}

function refuse(err: Error): Step {
  return () => Promise.reject(err);
}

function reflectorOn(server: ScriptedServer, options: { relistSeconds?: number; stallSeconds?: number } = {}) {
  const seen: Array<[ObjectEvent, string | undefined]> = [];
  const restarts: string[] = [];
  const reflector = new Reflector({
    kubeConfig: new KubeConfig(),
    path: '/apis/tekton.dev/v1/taskruns',
    relistSeconds: options.relistSeconds ?? 3600,
    stallSeconds: options.stallSeconds ?? 60,
    logger: pino({ level: 'silent' }),
    onObject: (type, obj) => seen.push([type, obj.metadata?.name]),
    onRestart: (reason) => restarts.push(reason),
    source: server,
  });
  reflector.start();
  return { reflector, seen, restarts };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(5);
  }
}

const rvs = (server: ScriptedServer): Array<string | undefined> => server.requests.map((r) => r.resourceVersion);

describe('the reflector', () => {
  it('streams the state as SYNC, then resumes from the bookmark that closes it, without a LIST', async () => {
    const server = new ScriptedServer([
      stream([tr('a', '3'), tr('b', '4')], '10'),
      events([['MODIFIED', tr('a', '11')], ['DELETED', tr('b', '12')]]),
    ]);
    const { reflector, seen, restarts } = reflectorOn(server);
    await until(() => server.requests.length >= 3, 'the second resume');
    await reflector.stop();
    assert.deepEqual(seen, [['SYNC', 'a'], ['SYNC', 'b'], ['MODIFIED', 'a'], ['DELETED', 'b']]);
    assert.deepEqual(rvs(server), [undefined, '10', '12']);
    assert.equal(server.lists, 0);
    assert.deepEqual(restarts, []);
    assert.equal(reflector.hasSynced(), true);
  });

  it('resumes a watch that the server ended or the client timed out from the last resourceVersion, at once and without relisting', async () => {
    const server = new ScriptedServer([
      stream([tr('a', '3')], '10'),
      events([['BOOKMARK', bookmark('20')]], 'closed'),
      events([['BOOKMARK', bookmark('30')]], 'idle'),
      events([], 'idle'),
      events([['ADDED', tr('c', '31')]], 'closed'),
    ]);
    const { reflector, seen, restarts } = reflectorOn(server);
    const started = Date.now();
    await until(() => server.requests.length >= 6, 'five resumes');
    const elapsed = Date.now() - started;
    await reflector.stop();
    assert.deepEqual(rvs(server), [undefined, '10', '20', '30', '30', '31']);
    assert.deepEqual(seen, [['SYNC', 'a'], ['ADDED', 'c']]);
    assert.deepEqual(restarts, []);
    assert.ok(elapsed < 400, `no backoff between resumes (${elapsed} ms)`);
  });

  it('asks resumed watches for a timeout under client-node\'s 30 s idle limit, so each ends on a fresh bookmark', async () => {
    const server = new ScriptedServer([stream([], '10'), events([])]);
    const { reflector } = reflectorOn(server);
    await until(() => server.requests.length >= 3, 'resumes');
    await reflector.stop();
    const [first, ...resumed] = server.requests;
    assert.ok((first?.timeoutSeconds ?? 0) >= 300, 'the state stream may take long');
    for (const r of resumed) assert.ok(r.timeoutSeconds > 0 && r.timeoutSeconds < 30, String(r.timeoutSeconds));
  });

  it('gives up a silent response after 30 s, or a quarter of stallSeconds when shorter, and resumes watches for less than that', async () => {
    assert.deepEqual([120, 60, 40, 4, 1].map(idleTimeoutMs), [30_000, 15_000, 10_000, 2000, 2000]);
    const server = new ScriptedServer([stream([], '10'), events([])]);
    const { reflector } = reflectorOn(server, { stallSeconds: 40 });
    await until(() => server.requests.length >= 3, 'resumes');
    await reflector.stop();
    for (const r of server.requests.slice(1)) assert.equal(r.timeoutSeconds, 8, 'five sixths of the 10 s idle timeout');
  });

  it('relists exactly once on 410 Gone, as an ERROR event or as the response status', async () => {
    const gone = { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 10 (40)' } as ObjectWithMeta;
    const server = new ScriptedServer([
      stream([tr('a', '3')], '10'),
      events([['ERROR', gone]]),
      stream([tr('a', '3'), tr('b', '41')], '42'),
      refuse(new ApiStatusError(410, 'Gone')),
      stream([tr('b', '41')], '50'),
    ]);
    const { reflector, seen, restarts } = reflectorOn(server);
    await until(() => server.requests.length >= 6, 'the watch after the second relist');
    await reflector.stop();
    assert.deepEqual(rvs(server), [undefined, '10', undefined, '42', undefined, '50']);
    assert.deepEqual(restarts, ['gone', 'gone']);
    assert.deepEqual(seen.map(([type]) => type), ['SYNC', 'SYNC', 'SYNC', 'SYNC']);
  });

  it('resumes from the last resourceVersion after any other failure, with backoff, and never relists for it', async () => {
    const server = new ScriptedServer([
      stream([tr('a', '3')], '10'),
      events([['ADDED', tr('b', '11')]]),
      refuse(new Error('read ECONNRESET')),
      events([['ERROR', { kind: 'Status', code: 500, message: 'internal error' } as ObjectWithMeta]]),
      refuse(new ApiStatusError(503, 'Service Unavailable')),
    ]);
    const { reflector, restarts } = reflectorOn(server);
    await until(() => server.requests.length >= 6, 'three resumes after failures');
    await reflector.stop();
    assert.deepEqual(rvs(server), [undefined, '10', '11', '11', '11', '11']);
    assert.deepEqual(restarts, ['error', 'error', 'error']);
  });

  it('lists page by page, then watches from the list\'s resourceVersion, when the server refuses a streaming list (422)', async () => {
    const server = new ScriptedServer([
      refuse(new ApiStatusError(422, 'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled')),
      events([['MODIFIED', tr('a', '8')]]),
      events([['ERROR', { kind: 'Status', code: 410 } as ObjectWithMeta]]),
    ], [{ items: [tr('a', '3'), tr('b', '4')], resourceVersion: '7' }, { items: [tr('a', '8')], resourceVersion: '60' }]);
    const { reflector, seen, restarts } = reflectorOn(server);
    await until(() => server.requests.length >= 4, 'the watch after the relist');
    await reflector.stop();
    assert.deepEqual(rvs(server), [undefined, '7', '8', '60']);
    assert.equal(server.lists, 2, 'one LIST at start, one after the 410; no more streaming attempts');
    assert.deepEqual(seen, [['SYNC', 'a'], ['SYNC', 'b'], ['MODIFIED', 'a'], ['SYNC', 'a']]);
    assert.deepEqual(restarts, ['gone']);
  });

  it('skips an object its handler throws on (streamed, listed or watched) with one count, and goes on without listing again', async () => {
    const server = new ScriptedServer([
      stream([tr('a', '3'), tr('bad', '4'), tr('c', '5')], '6'),
      events([['MODIFIED', tr('bad', '8')], ['MODIFIED', tr('a', '9')]]),
    ], [{ items: [tr('bad', '4'), tr('a', '3')], resourceVersion: '7' }]);
    const seen: string[] = [];
    const skipped: string[] = [];
    const reflector = new Reflector({
      kubeConfig: new KubeConfig(),
      path: '/apis/tekton.dev/v1/taskruns',
      relistSeconds: 3600,
      stallSeconds: 60,
      logger: pino({ level: 'silent' }),
      onObject: (type, obj) => {
        if (obj.metadata?.name === 'bad') throw new Error('cannot classify');
        seen.push(`${type} ${obj.metadata?.name ?? ''}`);
      },
      onUnparseable: () => assert.fail('a handler error is not an unparseable record'),
      onHandlerError: (resource) => skipped.push(resource),
      source: server,
    });
    reflector.start();
    await until(() => server.requests.length >= 3, 'the watch resumed after the stream');
    await reflector.stop();
    assert.deepEqual(seen, ['SYNC a', 'SYNC c', 'MODIFIED a'], 'the objects after the failing one still arrive');
    assert.deepEqual(rvs(server), [undefined, '6', '9'], 'resumed from the bookmark and then from the last event: never a relist for it');
    assert.equal(server.lists, 0);
    assert.deepEqual(skipped, ['taskruns', 'taskruns']);
    // A paged LIST whose handler throws on one item still completes and is watched from.
    const paged = new ScriptedServer([refuse(new ApiStatusError(422, 'WatchList is off'))], [{ items: [tr('bad', '4'), tr('a', '3')], resourceVersion: '7' }]);
    const listed: string[] = [];
    const r2 = new Reflector({
      kubeConfig: new KubeConfig(), path: '/apis/tekton.dev/v1/taskruns', relistSeconds: 3600, stallSeconds: 60, logger: pino({ level: 'silent' }),
      onObject: (_type, obj) => { if (obj.metadata?.name === 'bad') throw new Error('cannot classify'); listed.push(obj.metadata?.name ?? ''); },
      source: paged,
    });
    r2.start();
    await until(() => paged.requests.length >= 2, 'the watch after the paged list');
    await r2.stop();
    assert.deepEqual(listed, ['a']);
    assert.deepEqual(rvs(paged), [undefined, '7']);
    assert.equal(paged.lists, 1);
  });

  it('falls back to paging when the server ignores sendInitialEvents (a bookmark before the end marker)', async () => {
    const server = new ScriptedServer([
      ({ handlers, signal }) => {
        handlers.opened();
        handlers.event('ADDED', tr('a', '3'));
        handlers.event('BOOKMARK', bookmark('9'));
        return aborted(signal);
      },
    ], [{ items: [tr('a', '3')], resourceVersion: '9' }]);
    const { reflector } = reflectorOn(server);
    await until(() => server.requests.length >= 2, 'the watch after the paged list');
    await reflector.stop();
    assert.equal(server.lists, 1);
    assert.deepEqual(rvs(server), [undefined, '9']);
  });

  it('streams the state again if its stream ends before the end marker, without counting a restart', async () => {
    const server = new ScriptedServer([
      ({ handlers }) => {
        handlers.opened();
        handlers.event('ADDED', tr('a', '3'));
        return Promise.resolve('closed');
      },
      stream([tr('a', '3'), tr('b', '4')], '10'),
    ]);
    const { reflector, restarts } = reflectorOn(server);
    await until(() => server.requests.length >= 3, 'the resume');
    await reflector.stop();
    assert.deepEqual(rvs(server), [undefined, undefined, '10']);
    assert.deepEqual(restarts, []);
    assert.equal(reflector.hasSynced(), true);
  });

  it('abandons a watch that hears nothing for stallSeconds and resumes it (no relist); silenceMs shows the silence', async () => {
    const server = new ScriptedServer([stream([tr('a', '3')], '10'), ({ signal }) => aborted(signal)]);
    const { reflector, restarts } = reflectorOn(server, { stallSeconds: 1 });
    await until(() => server.requests.length >= 2, 'the silent watch');
    await sleep(600);
    assert.ok(reflector.silenceMs() >= 500, String(reflector.silenceMs()));
    await until(() => server.requests.length >= 3, 'the resume after the stall', 4000);
    await reflector.stop();
    assert.deepEqual(restarts, ['stall']);
    assert.deepEqual(rvs(server), [undefined, '10', '10']);
    assert.ok(reflector.silenceMs() < 1000);
  });

  it('relists every relistSeconds (counted as no restart)', async () => {
    const server = new ScriptedServer([
      stream([tr('a', '3')], '10'),
      async ({ handlers }) => {
        handlers.opened();
        await sleep(1100);
        return 'closed';
      },
      stream([tr('a', '3')], '20'),
    ]);
    const { reflector, seen, restarts } = reflectorOn(server, { relistSeconds: 1 });
    await until(() => server.requests.length >= 4, 'the watch after the periodic relist');
    await reflector.stop();
    assert.deepEqual(rvs(server), [undefined, '10', undefined, '20']);
    assert.equal(server.requests[1]?.timeoutSeconds, 1, 'the watch ends when the relist is due');
    assert.deepEqual(seen, [['SYNC', 'a'], ['SYNC', 'a']]);
    assert.deepEqual(restarts, []);
  });

  it('backs off instead of spinning when watches end at once with nothing in them', async () => {
    const empty: Step = () => Promise.resolve('closed');
    const server = new ScriptedServer([stream([], '10'), ...Array.from({ length: 50 }, () => empty)]);
    const { reflector } = reflectorOn(server);
    await sleep(1200);
    await reflector.stop();
    assert.ok(server.requests.length <= 5, `${server.requests.length} requests in 1.2 s`);
  });

  it('stops promptly in the middle of a watch', async () => {
    const server = new ScriptedServer([stream([], '10')]);
    const { reflector } = reflectorOn(server);
    await until(() => server.requests.length >= 2, 'the resume');
    const started = Date.now();
    await reflector.stop();
    assert.ok(Date.now() - started < 200);
  });
});
