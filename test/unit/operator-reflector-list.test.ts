// The reflector's requests on the wire, against an in-process HTTP server: the paged LIST is
// handed over item by item as bytes arrive (a page is never held whole), and the watch asks for
// a streaming list or a resume.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { JsonRecords, type RecordLayout } from '../../operator/kube/json-records.ts';
import { ApiStatusError, KubeListWatch, MAX_STRING_BYTES, type ObjectWithMeta } from '../../operator/kube/list.ts';

function split(json: string, chunkSize: number, layout: RecordLayout = 'list', maxString = Infinity): { items: unknown[]; rest: unknown } {
  const items: unknown[] = [];
  const records = new JsonRecords(layout, (item) => items.push(JSON.parse(item.toString('utf8'))), maxString);
  const bytes = Buffer.from(json, 'utf8');
  for (let i = 0; i < bytes.length; i += chunkSize) records.push(bytes.subarray(i, i + chunkSize));
  return { items, rest: records.end() };
}

const tricky = {
  apiVersion: 'tekton.dev/v1',
  items: [
    { metadata: { name: 'a', annotations: { note: 'braces } ] { [ and "quotes" and \\ and \\" inside' } }, status: { items: [{ x: 1 }], results: [{ name: 'items', value: '[{' }] } },
    { metadata: { name: 'ü-ñ-模型' }, status: { results: [{ name: 'log', value: '😀'.repeat(40) }] } },
    { metadata: { name: 'c' }, spec: { params: [] } },
    // Long values with escapes on both sides of the point where the splitter switches to indexOf.
    { metadata: { name: 'd' }, status: { results: [{ name: 'x', value: `${'y'.repeat(300)}${('ab"' + 'x'.repeat(70) + '\\').repeat(20)}]}"` }] } },
  ],
  kind: 'TaskRunList',
  metadata: { continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ', resourceVersion: '4242' },
};

describe('the JSON record reader', () => {
  it('cuts out every item of a list and keeps the rest, however the bytes are chunked', () => {
    const json = JSON.stringify(tricky);
    for (const size of [1, 2, 3, 7, 64, 65, 100, 1000, json.length]) {
      const { items, rest } = split(json, size);
      assert.deepEqual(items, tricky.items, `chunk size ${size}`);
      assert.deepEqual(rest, { ...tricky, items: [] }, `chunk size ${size}`);
    }
  });

  it('handles an empty list, whitespace, and items after the metadata', () => {
    assert.deepEqual(split('{"kind":"List","items":[],"metadata":{"resourceVersion":"1"}}', 5), { items: [], rest: { kind: 'List', items: [], metadata: { resourceVersion: '1' } } });
    const reordered = '{ "metadata" : { "resourceVersion" : "9" } ,\n "items" : [ {"a":1} , {"b":[2]} ] }';
    assert.deepEqual(split(reordered, 4), { items: [{ a: 1 }, { b: [2] }], rest: { metadata: { resourceVersion: '9' }, items: [] } });
  });

  it('refuses a truncated response', () => {
    const records = new JsonRecords('list', () => undefined);
    records.push(Buffer.from('{"items":[{"a":'));
    assert.throws(() => records.end(), /middle of a JSON value/);
  });

  it('cuts a watch stream into its events', () => {
    const events = tricky.items.map((object, i) => ({ type: i ? 'MODIFIED' : 'ADDED', object }));
    const stream = events.map((e) => `${JSON.stringify(e)}\n`).join('');
    for (const size of [1, 5, 64, 65, 1000, stream.length]) assert.deepEqual(split(stream, size, 'watch').items, events, `chunk size ${size}`);
  });

  it('empties strings longer than the limit, and only those, wherever chunks split them', () => {
    const long = 'L'.repeat(300);
    const escaped = 'a\\"b'.repeat(100); // 500 characters with escapes
    const object = { metadata: { name: 'n', annotations: { 'slsa-ml.dev/signed': 'true', big: long } }, status: { results: [{ name: 'model_ARTIFACT_OUTPUTS', value: escaped }, { name: 'short', value: 'x'.repeat(200) }] } };
    const emptied = { metadata: { name: 'n', annotations: { 'slsa-ml.dev/signed': 'true', big: '' } }, status: { results: [{ name: 'model_ARTIFACT_OUTPUTS', value: '' }, { name: 'short', value: 'x'.repeat(200) }] } };
    const stream = JSON.stringify({ type: 'ADDED', object }) + '\n';
    const list = JSON.stringify({ kind: 'List', items: [object, object], metadata: { continue: long } });
    for (const size of [1, 3, 64, 100, 4096]) {
      assert.deepEqual(split(stream, size, 'watch', 200).items, [{ type: 'ADDED', object: emptied }], `watch, chunk size ${size}`);
      const { items, rest } = split(list, size, 'list', 200);
      assert.deepEqual(items, [emptied, emptied], `list, chunk size ${size}`);
      assert.deepEqual(rest, { kind: 'List', items: [], metadata: { continue: long } }, 'the rest of a list is kept whole');
    }
  });
});

interface Seen { url: URL; headers: IncomingMessage['headers'] }

describe('the API requests', () => {
  const seen: Seen[] = [];
  let handle: (req: IncomingMessage, res: ServerResponse, url: URL) => void = () => undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    seen.push({ url, headers: req.headers });
    handle(req, res, url);
  });
  let kc: KubeConfig;
  const path = '/apis/tekton.dev/v1/namespaces/ns/taskruns';

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'local', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'operator', token: 'sekret' }],
      contexts: [{ name: 'operator', cluster: 'local', user: 'operator' }],
      currentContext: 'operator',
    });
  });
  after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));

  it('pages a LIST and hands over each item before the rest of its page has arrived', async () => {
    seen.length = 0;
    let releasePage: () => void = () => undefined;
    const firstItemDelivered = new Promise<void>((resolve) => { releasePage = resolve; });
    handle = (_req, res, url) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!url.searchParams.has('continue')) {
        res.write('{"apiVersion":"tekton.dev/v1","items":[{"metadata":{"name":"a"}},');
        // The rest of the page only once the first item has reached the caller.
        void firstItemDelivered.then(() => res.end('{"metadata":{"name":"b"}}],"kind":"TaskRunList","metadata":{"continue":"next","resourceVersion":"10"}}'));
      } else {
        res.end('{"apiVersion":"tekton.dev/v1","items":[{"metadata":{"name":"c"}}],"kind":"TaskRunList","metadata":{"resourceVersion":"11"}}');
      }
    };
    const names: Array<string | undefined> = [];
    const rv = await new KubeListWatch(kc, path, { labelSelector: 'team=ml' }).list((obj: ObjectWithMeta) => {
      names.push(obj.metadata?.name);
      releasePage();
    }, new AbortController().signal);
    assert.deepEqual(names, ['a', 'b', 'c']);
    assert.equal(rv, '11');
    assert.equal(seen.length, 2);
    assert.equal(seen[0]?.url.pathname, path);
    assert.equal(seen[0]?.url.searchParams.get('limit'), '500');
    assert.equal(seen[0]?.url.searchParams.get('labelSelector'), 'team=ml');
    assert.equal(seen[1]?.url.searchParams.get('continue'), 'next');
    assert.equal(seen[0]?.headers.authorization, 'Bearer sekret');
  });

  it('reports a refused page with its status code (410: the continue token expired)', async () => {
    handle = (_req, res) => {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'The provided continue parameter is too old' }));
    };
    await assert.rejects(new KubeListWatch(kc, path).list(() => undefined, new AbortController().signal), (err: unknown) => {
      assert.ok(err instanceof ApiStatusError);
      assert.equal(err.code, 410);
      assert.match(err.message, /too old/);
      return true;
    });
  });

  it('asks for a streaming list (WatchList) when it has no resourceVersion, and resumes from one otherwise', async () => {
    seen.length = 0;
    handle = (_req, res, url) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const rv = url.searchParams.get('resourceVersion') ?? '5';
      res.end(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: rv } } })}\n`);
    };
    const source = new KubeListWatch(kc, path);
    const events: string[] = [];
    let opened = 0;
    const handlers = { opened: () => opened++, event: (type: string, obj: ObjectWithMeta) => events.push(`${type} ${obj.metadata?.resourceVersion}`) };
    assert.equal(await source.watch({ resourceVersion: undefined, timeoutSeconds: 600 }, handlers, new AbortController().signal), 'closed');
    assert.equal(await source.watch({ resourceVersion: '7', timeoutSeconds: 25 }, handlers, new AbortController().signal), 'closed');
    assert.deepEqual(events, ['BOOKMARK 5', 'BOOKMARK 7']);
    assert.equal(opened, 2);
    const [stream, resume] = seen.map((s) => Object.fromEntries(s.url.searchParams));
    assert.deepEqual(stream, { watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: '600', sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan' });
    assert.deepEqual(resume, { watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: '25', resourceVersion: '7' });
  });

  it('reports a refused watch with its status code (422: the server has WatchList off)', async () => {
    handle = (_req, res) => {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 422, reason: 'Invalid' }));
    };
    const handlers = { opened: () => assert.fail('not opened'), event: () => assert.fail('no events') };
    await assert.rejects(new KubeListWatch(kc, path).watch({ resourceVersion: undefined, timeoutSeconds: 600 }, handlers, new AbortController().signal),
      (err: unknown) => err instanceof ApiStatusError && err.code === 422);
  });

  it('hands over objects with their long strings emptied', async () => {
    const results = [{ name: 'report', value: 'r'.repeat(MAX_STRING_BYTES + 1) }, { name: 'accuracy', value: '0.9' }];
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '3' }, status: { results } } })}\n`);
    };
    const seen: ObjectWithMeta[] = [];
    await new KubeListWatch(kc, path).watch({ resourceVersion: '1', timeoutSeconds: 25 }, { opened: () => undefined, event: (_t, obj) => seen.push(obj) }, new AbortController().signal);
    assert.deepEqual(seen[0]?.status, { results: [{ name: 'report', value: '' }, { name: 'accuracy', value: '0.9' }] });
  });

  it('ends a watch that goes silent as "idle", and fails one that never answers', async () => {
    handle = (_req, res, url) => {
      if (url.searchParams.get('resourceVersion') === 'silent-before-answer') return; // never answers
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '4' } } })}\n`);
    };
    const source = new KubeListWatch(kc, path, { idleMs: 300 });
    const handlers = { opened: () => undefined, event: () => undefined };
    assert.equal(await source.watch({ resourceVersion: '1', timeoutSeconds: 25 }, handlers, new AbortController().signal), 'idle');
    await assert.rejects(source.watch({ resourceVersion: 'silent-before-answer', timeoutSeconds: 25 }, handlers, new AbortController().signal), /no data for 0.3s/);
  });

  it('ends a watch as "aborted" when the caller aborts it', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '3' } } })}\n`);
    };
    const controller = new AbortController();
    const end = new KubeListWatch(kc, path).watch({ resourceVersion: '1', timeoutSeconds: 25 }, { opened: () => undefined, event: () => controller.abort() }, controller.signal);
    assert.equal(await end, 'aborted');
  });
});
