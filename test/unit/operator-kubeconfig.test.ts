// The operator's own kubeconfig handling (operator/kube/kubeconfig.ts and its parts): which files
// and which context it uses, what each request carries (credentials, impersonation, TLS name,
// proxy), how exec plugins and token files are renewed, and which keys are refused by name.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { issueClientCert, makeClientCa } from '../../hack/env/client-ca.ts';
import { ApiStatusError, KubeApi } from '../../operator/kube/api.ts';
import { ExecCredentialSource } from '../../operator/kube/exec-credential.ts';
import { fromKubeconfigFile, fromKubeconfigFiles, inCluster, loadKubeConfig } from '../../operator/kube/kubeconfig.ts';
import { KubeListWatch } from '../../operator/kube/list.ts';
import { connectProxy } from '../support/connect-proxy.ts';
import { makeTestTls } from '../support/tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));

function kubeconfig(name: string, doc: Record<string, unknown>): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, stringify(doc));
  return path;
}

async function applied(access: { applyToHTTPSOptions(o: RequestOptions): Promise<void> }): Promise<RequestOptions & { headers?: Record<string, string> }> {
  const options: RequestOptions = { headers: { accept: 'application/json' } };
  await access.applyToHTTPSOptions(options);
  return options as RequestOptions & { headers?: Record<string, string> };
}

const twoContexts = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'local', cluster: { server: 'https://127.0.0.1:6443/', 'certificate-authority': 'ca.pem' } }],
  users: [{ name: 'admin', user: { token: 'admin-token' } }, { name: 'operator', user: { tokenFile: 'operator.token' } }],
  contexts: [{ name: 'admin', context: { cluster: 'local', user: 'admin' } }, { name: 'operator', context: { cluster: 'local', user: 'operator' } }],
  'current-context': 'admin',
};
writeFileSync(join(dir, 'ca.pem'), 'CA');
writeFileSync(join(dir, 'operator.token'), 'operator-token\n');

/** A kubeconfig of one user on one cluster. */
function oneUser(name: string, server: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  return kubeconfig(name, {
    clusters: [{ name: 'c', cluster: { server, ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  });
}

interface Seen { readonly url: string; readonly headers: IncomingHttpHeaders; readonly rawHeaders: string[] }

/** A local API server stand-in: records each request and answers with `answer`. */
async function apiServer(answer: (req: IncomingMessage, res: ServerResponse) => void = (req, res) => json(res, 200, { ok: true })): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    answer(req, res);
  });
  await listen(server);
  return { server, url: `http://127.0.0.1:${port(server)}`, seen };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function listen(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
}

function port(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** An exec plugin that counts its runs in `<name>.count` and answers token `run-<n>`; extra shell runs first. */
function plugin(name: string, options: { expiresInSeconds?: number; before?: string; apiVersion?: string } = {}): { path: string; runs: () => number } {
  const path = join(dir, `${name}.sh`);
  const count = join(dir, `${name}.count`);
  writeFileSync(count, '0');
  const expiry = options.expiresInSeconds === undefined ? '' : `,"expirationTimestamp":"'"$(date -u -d "+${options.expiresInSeconds} seconds" +%Y-%m-%dT%H:%M:%SZ)"'"`;
  writeFileSync(path, [
    '#!/bin/sh',
    options.before ?? '',
    `n=$(($(cat ${count}) + 1)); echo $n > ${count}`,
    `echo '{"apiVersion":"${options.apiVersion ?? 'client.authentication.k8s.io/v1'}","kind":"ExecCredential","status":{"token":"run-'$n'"${expiry}}}'`,
    '',
  ].join('\n'));
  chmodSync(path, 0o755);
  return { path, runs: () => Number(readFileSync(count, 'utf8').trim()) };
}

const execUser = (command: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ exec: { command, apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never', ...extra } });

describe('the operator\'s kubeconfig', () => {
  it('uses the current context, or the one named, with files relative to the kubeconfig', async () => {
    const path = kubeconfig('two.yaml', twoContexts);
    const admin = fromKubeconfigFile(path);
    assert.equal(admin.getCurrentCluster().server, 'https://127.0.0.1:6443');
    assert.equal((await applied(admin)).headers?.authorization, 'Bearer admin-token');
    const operator = fromKubeconfigFile(path, 'operator');
    assert.deepEqual((await applied(operator)).headers, { accept: 'application/json', authorization: 'Bearer operator-token' });
    assert.ok((await applied(operator)).agent, 'every request gets the pooled agent');
  });

  it('talks to a plain-HTTP server as kubectl does (kubectl proxy), where an HTTPS agent would fail "Protocol http: not supported"', async () => {
    const { server, url } = await apiServer((req, res) => json(res, 200, { gitVersion: 'v1.34.4', path: req.url, authorization: req.headers.authorization ?? null }));
    try {
      const path = kubeconfig('http.yaml', { ...twoContexts, clusters: [{ name: 'local', cluster: { server: url } }] });
      const access = fromKubeconfigFile(path);
      const answer = await new KubeApi(access, { requestMs: 5000 }).request<{ gitVersion: string; path: string; authorization: string | null }>({ method: 'GET', path: '/version' });
      assert.deepEqual(answer, { gitVersion: 'v1.34.4', path: '/version', authorization: 'Bearer admin-token' });
      access.close();
    } finally {
      server.close();
    }
  });

  it('reads only the start of an error answer: an endless body costs neither memory nor the request deadline', async () => {
    const { server, url } = await apiServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'e');
      const pump = (): void => { while (!res.destroyed && res.write(chunk)); if (!res.destroyed) res.once('drain', pump); };
      pump();
    });
    try {
      const access = fromKubeconfigFile(oneUser('endless.yaml', url, { token: 't' }));
      const started = Date.now();
      await assert.rejects(new KubeApi(access, { requestMs: 5000 }).request({ method: 'GET', path: '/api' }), (e) => e instanceof ApiStatusError && e.code === 500 && /^HTTP 500: e{200}$/.test(e.message));
      await assert.rejects(new KubeListWatch(access, '/api/v1/pods', { idleMs: 5000 }).list(() => {}, new AbortController().signal), (e) => e instanceof ApiStatusError && e.code === 500);
      assert.ok(Date.now() - started < 2000, `ended after ${Date.now() - started} ms`);
      access.close();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('names what is missing: a context, or a cluster without a server', () => {
    const path = kubeconfig('two.yaml', twoContexts);
    assert.throws(() => fromKubeconfigFile(path, 'nope'), /no context "nope"/);
    const broken = kubeconfig('broken.yaml', { ...twoContexts, clusters: [{ name: 'local', cluster: {} }] });
    assert.throws(() => fromKubeconfigFile(broken), /names cluster "local", which has no server/);
    // Never an anonymous request in place of a user that is not there.
    const noUser = kubeconfig('no-user.yaml', { ...twoContexts, users: [] });
    assert.throws(() => fromKubeconfigFile(noUser), /context admin names user "admin", which is not defined/);
  });

  describe('a KUBECONFIG list, merged as kubectl merges it', () => {
    it('takes each entry and current-context from the first file that has it, skips missing files, and resolves paths against the file that names them', async () => {
      // first.yaml: no current-context; its user "shared" wins over second.yaml's, and its
      // tokenFile is relative to first/. second.yaml: the cluster, current-context, and a
      // context of its own, its tokenFile relative to second/.
      mkdirSync(join(dir, 'first'), { recursive: true });
      mkdirSync(join(dir, 'second'), { recursive: true });
      writeFileSync(join(dir, 'first', 'token'), 'first-token');
      writeFileSync(join(dir, 'second', 'token'), 'second-token');
      const first = kubeconfig('first/config', {
        users: [{ name: 'shared', user: { tokenFile: 'token' } }],
        contexts: [{ name: 'main', context: { cluster: 'c', user: 'shared' } }],
      });
      const second = kubeconfig('second/config', {
        clusters: [{ name: 'c', cluster: { server: 'https://second.example:6443' } }],
        users: [{ name: 'shared', user: { token: 'loses-to-first' } }, { name: 'own', user: { tokenFile: 'token' } }],
        contexts: [{ name: 'main', context: { cluster: 'c', user: 'own' } }, { name: 'other', context: { cluster: 'c', user: 'own' } }],
        'current-context': 'main',
      });
      const merged = loadKubeConfig(undefined, { KUBECONFIG: `${join(dir, 'absent')}:${first}::${second}` });
      assert.equal(merged.server, 'https://second.example:6443');
      assert.equal((await applied(merged)).headers?.authorization, 'Bearer first-token', 'context main and user shared of the first file, its token file beside it');
      assert.equal((await applied(fromKubeconfigFiles([first, second], 'other'))).headers?.authorization, 'Bearer second-token', 'second.yaml\'s relative tokenFile resolves against second/');
      // The order decides: second first, and its own "main" context (user own) wins.
      assert.equal((await applied(loadKubeConfig(undefined, { KUBECONFIG: `${second}:${first}` }))).headers?.authorization, 'Bearer second-token');
    });

    it('names the files when none of them exists', () => {
      assert.throws(() => loadKubeConfig(undefined, { KUBECONFIG: `${join(dir, 'missing')}:${join(dir, 'missing-too')}` }), /none of .*missing, .*missing-too exists/);
    });
  });

  describe('keys: each one applied or refused by name', () => {
    it('refuses what it does not do, naming the key', () => {
      const refused: Array<[Record<string, unknown>, Record<string, unknown>, RegExp]> = [
        [{ 'auth-provider': { name: 'gcp' } }, {}, /user u: auth-provider: .*does not support/],
        [{ token: 't', 'client-certificat': 'typo.pem' }, {}, /user u: unknown key client-certificat/],
        [{ token: 't' }, { 'proxy-url': 'socks5://127.0.0.1:1080' }, /cluster c: proxy-url socks5:.*only http/],
        [{ token: 't' }, { 'certificate-authority-dat': 'eA==' }, /cluster c: unknown key certificate-authority-dat/],
        [execUser('p', { interactiveMode: 'Always' }), {}, /exec: interactiveMode Always needs a terminal/],
        [execUser('p', { apiVersion: 'client.authentication.k8s.io/v1alpha1' }), {}, /exec: apiVersion "client.authentication.k8s.io\/v1alpha1" is not one of/],
        [execUser('p', { provideClusterInf: true }), {}, /exec: unknown key provideClusterInf/],
        [{ ...execUser('p'), token: 't' }, {}, /more than one way to authenticate \(token, exec\)/],
        [{ token: 't', username: 'a', password: 'b' }, {}, /more than one way to authenticate \(token, username\/password\)/],
        [{ token: 't', 'as-groups': ['g'] }, {}, /as-uid, as-groups and as-user-extra need as/],
        [{ 'client-certificate-data': 'eA==' }, {}, /needs both client-certificate\(-data\) and client-key\(-data\)/],
        // Two keys for one thing: one of them would be silently dropped (client-go: an error, or the file wins).
        [{ token: 't', tokenFile: 'operator.token' }, {}, /user u: token and tokenFile are both set; keep one/],
        [{ 'client-certificate-data': 'eA==', 'client-certificate': 'ca.pem', 'client-key-data': 'eA==' }, {}, /user u: client-certificate-data and client-certificate are both set/],
        [{ 'client-certificate-data': 'eA==', 'client-key-data': 'eA==', 'client-key': 'ca.pem' }, {}, /user u: client-key-data and client-key are both set/],
        [{ token: 't' }, { 'certificate-authority-data': 'eA==', 'certificate-authority': 'ca.pem' }, /cluster c: certificate-authority-data and certificate-authority are both set/],
        [{ token: 't' }, { 'certificate-authority': 'ca.pem', 'insecure-skip-tls-verify': true }, /cluster c: insecure-skip-tls-verify and certificate-authority\(-data\) are both set/],
        // client-go: v1 has no default interactiveMode (v1beta1 defaults to IfAvailable).
        [execUser('p', { interactiveMode: undefined }), {}, /exec: interactiveMode must be specified for client.authentication.k8s.io\/v1/],
      ];
      for (const [user, cluster, error] of refused) {
        assert.throws(() => fromKubeconfigFile(oneUser('refused.yaml', 'https://127.0.0.1:1', user, cluster)), error, JSON.stringify(user));
      }
    });

    it('quotes a refused proxy-url without its user:password@', () => {
      const path = oneUser('proxy-secret.yaml', 'https://127.0.0.1:1', { token: 't' }, { 'proxy-url': 'socks5://alice:s3cret@proxy.example:1080' });
      assert.throws(() => fromKubeconfigFile(path), (err: Error) => /proxy-url socks5:\/\/proxy\.example:1080: only http/.test(err.message) && !err.message.includes('s3cret'));
    });

    it('takes exec: null as no plugin, and a v1beta1 plugin without interactiveMode as IfAvailable', async () => {
      assert.equal((await applied(fromKubeconfigFile(oneUser('exec-null.yaml', 'https://127.0.0.1:1', { token: 't', exec: null })))).headers?.authorization, 'Bearer t');
      assert.doesNotThrow(() => fromKubeconfigFile(oneUser('exec-beta.yaml', 'https://127.0.0.1:1', execUser('p', { apiVersion: 'client.authentication.k8s.io/v1beta1', interactiveMode: undefined }))));
    });

    it('accepts keys that change nothing for the operator: extensions, preferences, a context\'s namespace, disable-compression', async () => {
      const path = kubeconfig('harmless.yaml', {
        preferences: { colors: true },
        extensions: [{ name: 'x', extension: { a: 1 } }],
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'disable-compression': true, extensions: [{ name: 'y', extension: {} }] } }],
        users: [{ name: 'u', user: { token: 't', extensions: [] } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'ignored', extensions: [] } }],
        'current-context': 'x',
      });
      assert.equal((await applied(fromKubeconfigFile(path))).headers?.authorization, 'Bearer t');
    });
  });

  it('impersonates as kubectl does: Impersonate-User, -Uid, one Impersonate-Group per group, Impersonate-Extra-<key>', async () => {
    const { server, url, seen } = await apiServer();
    try {
      const path = oneUser('as.yaml', url, {
        token: 'admin-token',
        as: 'system:serviceaccount:ns:sa',
        'as-uid': 'uid-1',
        'as-groups': ['system:serviceaccounts', 'team a'],
        'as-user-extra': { scopes: ['view', 'edit'], 'example.com/project': ['p1'] },
      });
      const access = fromKubeconfigFile(path);
      await new KubeApi(access, { requestMs: 5000 }).request({ method: 'GET', path: '/api' });
      access.close();
      const raw = seen[0]?.rawHeaders ?? [];
      const values = (name: string): string[] => raw.filter((_, i) => i % 2 === 0).flatMap((h, i) => (h.toLowerCase() === name.toLowerCase() ? [raw[i * 2 + 1] as string] : []));
      assert.deepEqual(values('Impersonate-User'), ['system:serviceaccount:ns:sa']);
      assert.deepEqual(values('Impersonate-Uid'), ['uid-1']);
      assert.deepEqual(values('Impersonate-Group'), ['system:serviceaccounts', 'team a']);
      assert.deepEqual(values('Impersonate-Extra-scopes'), ['view', 'edit']);
      assert.deepEqual(values('Impersonate-Extra-example.com%2Fproject'), ['p1']);
      assert.deepEqual(values('authorization'), ['Bearer admin-token']);
    } finally {
      server.close();
    }
  });

  it('sends non-ASCII impersonation values as their UTF-8 bytes (as client-go), and refuses a control character by name', async () => {
    const { server, url, seen } = await apiServer();
    try {
      const access = fromKubeconfigFile(oneUser('as-utf8.yaml', url, { token: 't', as: 'łukasz', 'as-groups': ['équipe'], 'as-user-extra': { team: ['café'] } }));
      await new KubeApi(access, { requestMs: 5000 }).request({ method: 'GET', path: '/api' });
      access.close();
      const utf8 = (v: unknown): string => Buffer.from(String(v), 'latin1').toString('utf8');
      assert.equal(utf8(seen[0]?.headers['impersonate-user']), 'łukasz');
      assert.equal(utf8(seen[0]?.headers['impersonate-group']), 'équipe');
      assert.equal(utf8(seen[0]?.headers['impersonate-extra-team']), 'café');
    } finally {
      server.close();
    }
    assert.throws(() => fromKubeconfigFile(oneUser('as-ctl.yaml', 'https://127.0.0.1:1', { token: 't', as: 'a\nb' })), /user u: as: "a\\nb" has a control character/);
  });

  describe('TLS and route', () => {
    const tls = makeTestTls();

    async function httpsServer(): Promise<{ server: Server; url: string; names: Array<string | false | null> }> {
      const names: Array<string | false | null> = [];
      const server = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
        names.push((req.socket as TLSSocket).servername);
        json(res, 200, { ok: true });
      });
      await listen(server);
      return { server, url: `https://127.0.0.1:${port(server)}`, names };
    }

    it('sends tls-server-name as SNI and checks the certificate against it', async () => {
      const { server, url, names } = await httpsServer();
      try {
        const ca = Buffer.from(tls.caPem).toString('base64');
        const good = fromKubeconfigFile(oneUser('sni.yaml', url, { token: 't' }, { 'certificate-authority-data': ca, 'tls-server-name': 'localhost' }));
        assert.deepEqual(await new KubeApi(good, { requestMs: 5000 }).request({ method: 'GET', path: '/api' }), { ok: true });
        assert.deepEqual(names, ['localhost']);
        good.close();
        // The certificate names 127.0.0.1 and localhost, not this name: refused although the address matches.
        const wrong = fromKubeconfigFile(oneUser('sni-wrong.yaml', url, { token: 't' }, { 'certificate-authority-data': ca, 'tls-server-name': 'other.example' }));
        await assert.rejects(new KubeApi(wrong, { requestMs: 5000 }).request({ method: 'GET', path: '/api' }), /other\.example/);
        wrong.close();
      } finally {
        server.close();
      }
    });

    it('goes through proxy-url with CONNECT, TLS to the API server inside the tunnel', async () => {
      const { server, url } = await httpsServer();
      const { proxy, tunnels } = connectProxy();
      await listen(proxy);
      try {
        const access = fromKubeconfigFile(oneUser('proxy.yaml', url, { token: 't' }, { 'certificate-authority-data': Buffer.from(tls.caPem).toString('base64'), 'proxy-url': `http://127.0.0.1:${port(proxy)}` }));
        assert.deepEqual(await new KubeApi(access, { requestMs: 5000 }).request({ method: 'GET', path: '/api' }), { ok: true });
        assert.deepEqual(tunnels, [new URL(url).host]);
        access.close();
      } finally {
        proxy.close();
        server.close();
      }
    });
    it('ends a request within its deadline when the proxy never answers CONNECT (the socket timeout is armed only after the tunnel opens)', async () => {
      const held: Socket[] = [];
      const proxy = createServer();
      proxy.on('connect', (_req: IncomingMessage, socket: Socket) => { held.push(socket); });
      await listen(proxy);
      try {
        const access = fromKubeconfigFile(oneUser('proxy-silent.yaml', 'https://127.0.0.1:1', { token: 't' }, { 'proxy-url': `http://127.0.0.1:${port(proxy)}` }));
        const started = Date.now();
        await assert.rejects(new KubeApi(access, { requestMs: 300 }).request({ method: 'GET', path: '/api' }), /no answer from the API server \(\/api\) within/);
        const list = new KubeListWatch(access, '/api/v1/pods', { idleMs: 300 });
        await assert.rejects(list.list(() => {}, new AbortController().signal), /no data for 0.3s/);
        assert.ok(Date.now() - started < 3000, `both ended within their deadlines (${Date.now() - started} ms)`);
        access.close();
      } finally {
        for (const socket of held) socket.destroy();
        proxy.close();
      }
    });
  });

  describe('exec credential plugins', () => {
    it('runs the plugin without blocking the event loop, once for concurrent requests, with its args and env', async () => {
      const p = plugin('single', { before: 'sleep 0.5; [ "$1" = "--flag" ] && [ "$PLUGIN_ENV" = "yes" ] || exit 3' });
      const access = fromKubeconfigFile(oneUser('single.yaml', 'https://127.0.0.1:1', execUser(p.path, { args: ['--flag'], env: [{ name: 'PLUGIN_ENV', value: 'yes' }] })));
      let ticks = 0;
      const ticker = setInterval(() => { ticks++; }, 50);
      const headers = await Promise.all(Array.from({ length: 5 }, async () => (await applied(access)).headers?.authorization));
      clearInterval(ticker);
      assert.deepEqual(headers, Array(5).fill('Bearer run-1'));
      assert.equal(p.runs(), 1, 'five requests, one plugin run');
      assert.ok(ticks >= 5, `timers kept firing while the plugin ran (${ticks} ticks)`);
    });

    it('runs it again once the credential\'s expirationTimestamp has passed, not before', async () => {
      const p = plugin('expiring', { expiresInSeconds: 1 });
      const access = fromKubeconfigFile(oneUser('expiring.yaml', 'https://127.0.0.1:1', execUser(p.path)));
      assert.equal((await applied(access)).headers?.authorization, 'Bearer run-1');
      assert.equal((await applied(access)).headers?.authorization, 'Bearer run-1');
      await new Promise((resolve) => setTimeout(resolve, 2100));
      assert.equal((await applied(access)).headers?.authorization, 'Bearer run-2');
      assert.equal(p.runs(), 2);
    });

    it('on a 401 runs it again and sends the request once more (KubeApi and list/watch); a second 401 is the answer', async () => {
      const p = plugin('revoked');
      // One token is valid at a time: any other stands for a revoked one.
      let valid = 'Bearer run-2';
      const { server, url, seen } = await apiServer((req, res) => {
        if (req.headers.authorization === valid) json(res, 200, { kind: 'List', metadata: { resourceVersion: '7' }, items: [{ metadata: { name: 'a' } }] });
        else json(res, 401, { kind: 'Status', code: 401, message: 'Unauthorized' });
      });
      const tokens = (): Array<string | undefined> => seen.splice(0).map((s) => s.headers.authorization);
      try {
        const access = fromKubeconfigFile(oneUser('revoked.yaml', url, execUser(p.path)));
        const api = new KubeApi(access, { requestMs: 5000 });
        assert.equal((await api.request<{ kind: string }>({ method: 'POST', path: '/api/v1/namespaces/n/configmaps', body: { a: 1 } })).kind, 'List');
        assert.deepEqual(tokens(), ['Bearer run-1', 'Bearer run-2']);
        // list.ts: the same renewal for a LIST.
        valid = 'Bearer run-3';
        const names: string[] = [];
        assert.equal(await new KubeListWatch(access, '/api/v1/configmaps').list((o) => names.push(o.metadata?.name ?? ''), new AbortController().signal), '7');
        assert.deepEqual(names, ['a']);
        assert.deepEqual(tokens(), ['Bearer run-2', 'Bearer run-3']);
        // A renewed token refused as well: one retry only, then the 401 is the answer.
        valid = 'none';
        const error = await api.request({ method: 'GET', path: '/api' }).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof ApiStatusError && error.code === 401, String(error));
        assert.deepEqual(tokens(), ['Bearer run-3', 'Bearer run-4']);
        assert.equal(p.runs(), 4);
        access.close();
      } finally {
        server.close();
      }
    });

    it('gives the plugin the cluster (provideClusterInfo) and a v1beta1 plugin its own apiVersion', async () => {
      const info = join(dir, 'exec-info.json');
      const p = plugin('info', { before: `printf '%s' "$KUBERNETES_EXEC_INFO" > ${info}`, apiVersion: 'client.authentication.k8s.io/v1beta1' });
      const path = kubeconfig('info.yaml', {
        clusters: [{ name: 'c', cluster: {
          server: 'https://10.0.0.1:443', 'certificate-authority-data': Buffer.from('CA PEM').toString('base64'), 'tls-server-name': 'kubernetes.default', 'insecure-skip-tls-verify': false,
          extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'x' } }],
        } }],
        users: [{ name: 'u', user: execUser(p.path, { apiVersion: 'client.authentication.k8s.io/v1beta1', provideClusterInfo: true }) }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      });
      assert.equal((await applied(fromKubeconfigFile(path))).headers?.authorization, 'Bearer run-1');
      assert.deepEqual(JSON.parse(readFileSync(info, 'utf8')), {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        kind: 'ExecCredential',
        spec: { interactive: false, cluster: { server: 'https://10.0.0.1:443', 'tls-server-name': 'kubernetes.default', 'certificate-authority-data': Buffer.from('CA PEM').toString('base64'), config: { audience: 'x' } } },
      });
    });

    it('refuses an answer of another apiVersion, shows installHint when the command is missing, and kills a plugin past its deadline', async () => {
      const v1beta1 = plugin('mismatch', { apiVersion: 'client.authentication.k8s.io/v1beta1' });
      await assert.rejects(applied(fromKubeconfigFile(oneUser('mismatch.yaml', 'https://127.0.0.1:1', execUser(v1beta1.path)))), /answered client.authentication.k8s.io\/v1beta1 ExecCredential, not the client.authentication.k8s.io\/v1/);
      const missing = fromKubeconfigFile(oneUser('missing.yaml', 'https://127.0.0.1:1', execUser('no-such-auth-plugin', { installHint: 'Install it with:\n  gcloud components install gke-gcloud-auth-plugin' })));
      await assert.rejects(applied(missing), /no-such-auth-plugin: spawn no-such-auth-plugin ENOENT; Install it with: gcloud components install gke-gcloud-auth-plugin/);
      const slow = plugin('slow', { before: 'sleep 5' });
      const source = new ExecCredentialSource({ command: slow.path, args: [], env: [], apiVersion: 'client.authentication.k8s.io/v1', provideClusterInfo: false }, { server: 'https://127.0.0.1:1', insecure: false }, 300);
      const started = Date.now();
      await assert.rejects(source.current(), /no answer within 0.3 s/);
      assert.ok(Date.now() - started < 2000, 'killed at its deadline');
    });

    it('quotes a failed plugin\'s first stderr line capped, with what looks like a credential redacted', async () => {
      const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06YWRtaW4ifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
      const secret = 'ya29.a0AfH6SMBx9Qk2LmZpT7vRw3YdE5nHc8JuGs4KtBq1XzVo';
      const p = plugin('leaky', { before: `echo "request failed: Authorization: Bearer ${secret} token ${jwt} via https://bob:hunter2@proxy.example at /usr/local/google-cloud-sdk/bin/gke-gcloud-auth-plugin $(printf 'x%.0s' $(seq 1 300))" >&2; exit 4` });
      const err = await applied(fromKubeconfigFile(oneUser('leaky.yaml', 'https://127.0.0.1:1', execUser(p.path)))).then(() => undefined, (e: unknown) => e as Error);
      assert.ok(err, 'the plugin failed');
      assert.match(err.message, /failed \(exit 4\): request failed: Authorization: Bearer \[redacted\] token \[redacted\] via https:\/\/\[redacted\]@proxy\.example at \/usr\/local\/google-cloud-sdk\/bin\/gke-gcloud-auth-plugin x+…$/);
      for (const leaked of ['a0AfH6', 'eyJhbGci', 'hunter2']) assert.ok(!err.message.includes(leaked), leaked);
      const short = plugin('short', { before: 'echo "refresh failed: password=hunter2, client_secret: abc123; api-key=k1 (user bob)" >&2; exit 4' });
      const shortErr = await applied(fromKubeconfigFile(oneUser('short.yaml', 'https://127.0.0.1:1', execUser(short.path)))).then(() => undefined, (e: unknown) => e as Error);
      assert.match(shortErr?.message ?? '', /refresh failed: password=\[redacted\], client_secret: \[redacted\]; api-key=\[redacted\] \(user bob\)$/);
      assert.ok(err.message.length < 400, `${err.message.length} characters`);
    });

    it('renews an expired client certificate: new connections present the new one', async () => {
      const tls = makeTestTls();
      const certs = join(dir, 'exec-certs');
      mkdirSync(certs, { recursive: true });
      const ca = makeClientCa(certs);
      for (const n of [1, 2]) {
        const c = issueClientCert(ca, certs, `client-${n}`, `client-${n}`);
        writeFileSync(join(certs, `answer-${n}.json`), JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { clientCertificateData: c.cert, clientKeyData: c.key, expirationTimestamp: new Date(Date.now() + (n === 1 ? 1000 : 3_600_000)).toISOString() } }));
      }
      const count = join(certs, 'count');
      writeFileSync(count, '0');
      const script = join(certs, 'plugin.sh');
      writeFileSync(script, `#!/bin/sh\nn=$(($(cat ${count}) + 1)); echo $n > ${count}; cat ${certs}/answer-$n.json\n`);
      chmodSync(script, 0o755);
      const subjects: string[] = [];
      const server = createHttpsServer({ cert: tls.cert, key: tls.key, ca: readFileSync(ca.certPath), requestCert: true, rejectUnauthorized: true }, (req, res) => {
        subjects.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
        json(res, 200, { ok: true });
      });
      await listen(server);
      try {
        const access = fromKubeconfigFile(oneUser('exec-cert.yaml', `https://127.0.0.1:${port(server)}`, execUser(script), { 'certificate-authority-data': Buffer.from(tls.caPem).toString('base64') }));
        const api = new KubeApi(access, { requestMs: 5000 });
        await api.request({ method: 'GET', path: '/api' });
        await api.request({ method: 'GET', path: '/api' });
        await new Promise((resolve) => setTimeout(resolve, 1100));
        await api.request({ method: 'GET', path: '/api' });
        assert.deepEqual(subjects, ['client-1', 'client-1', 'client-2']);
        access.close();
      } finally {
        server.close();
      }
    });
  });

  describe('token files', () => {
    it('re-reads a token file once a minute', async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const token = join(dir, 'minute.token');
      writeFileSync(token, 'first');
      const access = fromKubeconfigFile(oneUser('minute.yaml', 'https://127.0.0.1:1', { tokenFile: token }));
      writeFileSync(token, 'second');
      assert.equal((await applied(access)).headers?.authorization, 'Bearer first');
      t.mock.timers.tick(60_001);
      assert.equal((await applied(access)).headers?.authorization, 'Bearer second');
    });

    it('re-reads a rotated token file at once when the API server answers 401', async () => {
      const token = join(dir, 'rotating.token');
      writeFileSync(token, 'old');
      const { server, url, seen } = await apiServer((req, res) => json(res, req.headers.authorization === 'Bearer new' ? 200 : 401, { message: 'Unauthorized' }));
      try {
        const access = fromKubeconfigFile(oneUser('rotating.yaml', url, { tokenFile: token }));
        const api = new KubeApi(access, { requestMs: 5000 });
        writeFileSync(token, 'new'); // rotated within the minute the old one is cached for
        await api.request({ method: 'GET', path: '/api' });
        assert.deepEqual(seen.map((s) => s.headers.authorization), ['Bearer old', 'Bearer new']);
        access.close();
      } finally {
        server.close();
      }
    });
  });

  describe('inside a Pod', () => {
    it('uses the ServiceAccount token and CA, and the API server Service address', async () => {
      const sa = join(dir, 'serviceaccount');
      mkdirSync(sa, { recursive: true });
      writeFileSync(join(sa, 'token'), 'sa-token');
      writeFileSync(join(sa, 'ca.crt'), 'CA');
      const config = inCluster({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, undefined, sa);
      assert.equal(config.server, 'https://10.0.0.1:443');
      assert.equal((await applied(config)).headers?.authorization, 'Bearer sa-token');
      assert.equal(inCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, undefined, sa).server, 'https://[fd00::1]:443');
    });

    it('fails at start-up when no token is mounted', () => {
      assert.throws(() => inCluster({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, undefined, join(dir, 'no-such-dir')), /ENOENT/);
    });
  });
});
