// Where the API server is and how to authenticate to it: kubeconfig files ($KUBECONFIG, a list
// merged as kubectl merges it, else ~/.kube/config) or, inside a Pod, the ServiceAccount's mounted
// token and CA. The operator makes a handful of calls (api.ts, list.ts); @kubernetes/client-node
// would load ~90 MB of generated API models to make them, most of the operator's idle memory and
// start-up time. Every request of one process shares one keep-alive Agent, so connections are
// reused rather than handshaken per call.
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent, type OutgoingHttpHeaders } from 'node:http';
import { Agent, type RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fixedCredential, TokenFileSource, type Credential, type CredentialSource } from './credentials.ts';
import { ExecCredentialSource } from './exec-credential.ts';
import { readKubeconfigFiles, resolveContext, type ClusterEntry, type Impersonation, type UserEntry } from './kubeconfig-file.ts';

/** What a request needs: the server's URL, and TLS and credentials applied to its options. */
export interface ClusterAccess {
  getCurrentCluster(): { readonly server: string } | null;
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
  /**
   * The API server answered 401 to a request made with these options: whether to send it once
   * more (its credential can be renewed: an exec plugin, a token file), after applying afresh.
   */
  unauthorized?(options: RequestOptions): boolean;
}

export interface KubeTimeouts {
  /** Longest wait for response headers, and for each further chunk of a body (watches resume on their own). */
  readonly requestMs: number;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** TLS settings of the cluster, and the route to it. */
export interface ClusterTls {
  readonly ca?: Buffer;
  readonly insecure?: boolean;
  readonly serverName?: string;
  /** An http(s) proxy: HTTPS goes through it with CONNECT, plain HTTP as absolute-form requests. */
  readonly proxyUrl?: string;
}

export class ClusterConfig implements ClusterAccess {
  readonly server: string;
  readonly timeouts: KubeTimeouts | undefined;
  readonly #tls: ClusterTls;
  readonly #auth: CredentialSource;
  readonly #impersonation: OutgoingHttpHeaders;
  /**
   * TLS settings live on the Agent, not on each request: the Agent names its connection pools by
   * the request's TLS options, and stringifying a CA certificate for every request cost more
   * than the rest of the request's set-up. A new client certificate (an exec plugin's renewed
   * one) gets a new Agent; the old one finishes its requests and keeps no connection.
   */
  #agent: HttpAgent;
  #agentCert: Buffer | undefined;
  /** Which credential each request went out with, to renew that one on a 401. */
  readonly #used = new WeakMap<RequestOptions, Credential>();

  constructor(server: string, tls: ClusterTls, auth: CredentialSource, options: { timeouts?: KubeTimeouts | undefined; impersonate?: Impersonation | undefined } = {}) {
    this.server = server.replace(/\/+$/, '');
    this.#tls = tls;
    this.#auth = auth;
    this.timeouts = options.timeouts;
    this.#impersonation = options.impersonate ? impersonationHeaders(options.impersonate) : {};
    this.#agent = this.#newAgent(undefined);
  }

  getCurrentCluster(): { readonly server: string } {
    return { server: this.server };
  }

  async applyToHTTPSOptions(options: RequestOptions): Promise<void> {
    const credential = await this.#auth.current();
    if (credential.cert !== this.#agentCert) {
      const old = this.#agent;
      this.#agentCert = credential.cert;
      this.#agent = this.#newAgent(credential);
      drain(old);
    }
    options.agent = this.#agent;
    const headers: OutgoingHttpHeaders = { ...(options.headers as OutgoingHttpHeaders | undefined), ...this.#impersonation };
    if (credential.authorization) headers.authorization = credential.authorization;
    options.headers = headers;
    this.#used.set(options, credential);
  }

  unauthorized(options: RequestOptions): boolean {
    const used = this.#used.get(options);
    return used !== undefined && this.#auth.refused(used);
  }

  /** Closes pooled connections (shutdown). */
  close(): void {
    this.#agent.destroy();
  }

  #newAgent(credential: Credential | undefined): HttpAgent {
    const t = this.#tls;
    const pool = { keepAlive: true, maxFreeSockets: 32 };
    // A plain-HTTP server (a local proxy, `kubectl proxy`), which kubectl accepts: an HTTPS agent
    // on an http: request fails with "Protocol http: not supported". No TLS settings apply then.
    if (this.server.startsWith('http://')) return new HttpAgent({ ...pool, ...(t.proxyUrl ? { proxyEnv: { HTTP_PROXY: t.proxyUrl } } : {}) });
    return new Agent({
      ...pool,
      ...(t.proxyUrl ? { proxyEnv: { HTTPS_PROXY: t.proxyUrl } } : {}),
      ...(t.ca ? { ca: t.ca } : {}),
      ...(credential?.cert && credential.key ? { cert: credential.cert, key: credential.key } : {}),
      ...(t.serverName ? { servername: t.serverName } : {}),
      ...(t.insecure ? { rejectUnauthorized: false } : {}),
    });
  }
}

/** Idle connections close now, busy ones when their request ends (a watch: at its timeout). */
function drain(agent: HttpAgent): void {
  // Node's Agent reads keepAlive when a request ends (its 'free' handler); @types/node omits it.
  (agent as HttpAgent & { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

/** kubectl's impersonation headers; extra keys are percent-encoded where a header name cannot hold them. */
function impersonationHeaders(i: Impersonation): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { 'Impersonate-User': utf8Header(i.user) };
  if (i.uid !== undefined) headers['Impersonate-Uid'] = utf8Header(i.uid);
  if (i.groups.length > 0) headers['Impersonate-Group'] = i.groups.map(utf8Header);
  for (const [key, values] of Object.entries(i.extra)) headers[`Impersonate-Extra-${headerKey(key)}`] = values.map(utf8Header);
  return headers;
}

/**
 * A header value that goes out as its UTF-8 bytes, as client-go sends it: Node writes a header
 * string as latin1 (and refuses characters above U+00FF), so the bytes are handed over as latin1.
 */
function utf8Header(value: string): string {
  return Buffer.from(value, 'utf8').toString('latin1');
}

function headerKey(key: string): string {
  return [...Buffer.from(key, 'utf8')].map((b) => (/[A-Za-z0-9!#$&'*+\-.^_`|~]/.test(String.fromCharCode(b)) && b < 0x80 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/**
 * $KUBECONFIG (a list, merged), else ~/.kube/config, else the in-cluster ServiceAccount. An exec
 * plugin first runs at the first request, not here.
 */
export function loadKubeConfig(timeouts?: KubeTimeouts, env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  const fromEnv = env.KUBECONFIG?.split(':').filter((p) => p !== '');
  if (fromEnv && fromEnv.length > 0) return fromKubeconfigFiles(fromEnv, undefined, timeouts);
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return fromKubeconfigFiles([home], undefined, timeouts);
  if (env.KUBERNETES_SERVICE_HOST) return inCluster(env, timeouts);
  throw new Error('no Kubernetes credentials: KUBECONFIG is unset, ~/.kube/config does not exist and this is not a Pod (KUBERNETES_SERVICE_HOST is unset)');
}

/** Inside a Pod: the API server's Service address and the mounted ServiceAccount token (re-read as it rotates) and CA. */
export function inCluster(env: NodeJS.ProcessEnv, timeouts?: KubeTimeouts, dir = SERVICE_ACCOUNT_DIR): ClusterConfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const token = new TokenFileSource(join(dir, 'token'));
  return new ClusterConfig(server, { ca: readFileSync(join(dir, 'ca.crt')) }, token, { timeouts });
}

/** One context of one kubeconfig file (default: its current context). */
export function fromKubeconfigFile(path: string, context?: string, timeouts?: KubeTimeouts): ClusterConfig {
  return fromKubeconfigFiles([path], context, timeouts);
}

/** One context of kubeconfig files merged as a KUBECONFIG list (default: the current context). */
export function fromKubeconfigFiles(paths: readonly string[], context?: string, timeouts?: KubeTimeouts): ClusterConfig {
  const { cluster, user } = resolveContext(readKubeconfigFiles(paths), context);
  return new ClusterConfig(cluster.server, clusterTls(cluster), credentialSource(user, cluster), { timeouts, impersonate: user.impersonate });
}

function clusterTls(cluster: ClusterEntry): ClusterTls {
  return {
    ...(cluster.ca ? { ca: cluster.ca } : {}),
    ...(cluster.tlsServerName !== undefined ? { serverName: cluster.tlsServerName } : {}),
    ...(cluster.insecure ? { insecure: true } : {}),
    ...(cluster.proxyUrl !== undefined ? { proxyUrl: cluster.proxyUrl } : {}),
  };
}

function credentialSource(user: UserEntry, cluster: ClusterEntry): CredentialSource {
  // A client certificate from the file goes with any of these (kubectl sends both).
  const cert = user.cert && user.key ? { cert: user.cert, key: user.key } : {};
  if (user.exec) return new ExecCredentialSource(user.exec, cluster);
  if (user.token) return fixedCredential({ ...cert, authorization: `Bearer ${user.token}` });
  if (user.tokenFile) return withCert(new TokenFileSource(user.tokenFile), cert);
  if (user.basic) return fixedCredential({ ...cert, authorization: `Basic ${Buffer.from(`${user.basic.username}:${user.basic.password}`).toString('base64')}` });
  return fixedCredential(cert);
}

/** A token source whose credentials also carry the kubeconfig's client certificate. */
function withCert(source: CredentialSource, cert: { cert?: Buffer; key?: Buffer }): CredentialSource {
  if (!cert.cert) return source;
  const made = new WeakMap<Credential, Credential>();
  const original = new WeakMap<Credential, Credential>();
  return {
    current: async () => {
      const c = await source.current();
      let out = made.get(c);
      if (!out) {
        out = { ...c, ...cert };
        made.set(c, out);
        original.set(out, c);
      }
      return out;
    },
    refused: (used) => source.refused(original.get(used) ?? used),
  };
}
