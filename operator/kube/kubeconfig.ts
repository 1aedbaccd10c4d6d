// Where the API server is and how to authenticate to it: a kubeconfig file ($KUBECONFIG, else
// ~/.kube/config) or, inside a Pod, the ServiceAccount's mounted token and CA. The operator makes
// a handful of calls (api.ts, list.ts); @kubernetes/client-node would load ~90 MB of generated API
// models to make them, most of the operator's idle memory and start-up time. Every request of one
// process shares one keep-alive Agent, so connections are reused rather than handshaken per call.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent, type RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** What a request needs: the server's URL, and TLS and credentials applied to its options. */
export interface ClusterAccess {
  getCurrentCluster(): { readonly server: string } | null;
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

export interface KubeTimeouts {
  /** Longest wait for response headers, and for each further chunk of a body (watches resume on their own). */
  readonly requestMs: number;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Bound ServiceAccount tokens rotate (the kubelet rewrites the file); re-read it as client-go does. */
const TOKEN_FILE_TTL_MS = 60_000;

interface Credentials {
  readonly ca?: Buffer;
  readonly insecure?: boolean;
  readonly serverName?: string;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** The bearer token (or a basic-auth header value) for each request. */
  readonly authorization?: () => string | undefined;
}

export class ClusterConfig implements ClusterAccess {
  readonly server: string;
  readonly timeouts: KubeTimeouts | undefined;
  readonly #credentials: Credentials;
  /**
   * TLS settings live on the Agent, not on each request: the Agent names its connection pools by
   * the request's TLS options, and stringifying a CA certificate for every request cost more
   * than the rest of the request's set-up.
   */
  readonly #agent: HttpAgent;

  constructor(server: string, credentials: Credentials, timeouts?: KubeTimeouts) {
    this.server = server.replace(/\/+$/, '');
    this.#credentials = credentials;
    this.timeouts = timeouts;
    const c = credentials;
    // A plain-HTTP server (a local proxy, `kubectl proxy`), which kubectl accepts: an HTTPS agent
    // on an http: request fails with "Protocol http: not supported". No TLS settings apply then.
    this.#agent = this.server.startsWith('http://') ? new HttpAgent({ keepAlive: true, maxFreeSockets: 32 }) : new Agent({
      keepAlive: true,
      maxFreeSockets: 32,
      ...(c.ca ? { ca: c.ca } : {}),
      ...(c.cert ? { cert: c.cert } : {}),
      ...(c.key ? { key: c.key } : {}),
      ...(c.serverName ? { servername: c.serverName } : {}),
      ...(c.insecure ? { rejectUnauthorized: false } : {}),
    });
  }

  getCurrentCluster(): { readonly server: string } {
    return { server: this.server };
  }

  applyToHTTPSOptions(options: RequestOptions): Promise<void> {
    const c = this.#credentials;
    options.agent = this.#agent;
    const authorization = c.authorization?.();
    if (authorization) options.headers = { ...(options.headers as Record<string, string> | undefined), authorization };
    return Promise.resolve();
  }

  /** Closes idle pooled connections (shutdown). */
  close(): void {
    this.#agent.destroy();
  }
}

/** $KUBECONFIG (the first file of a list), else ~/.kube/config, else the in-cluster ServiceAccount. */
export function loadKubeConfig(timeouts?: KubeTimeouts, env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  const fromEnv = env.KUBECONFIG?.split(':').filter((p) => p !== '');
  if (fromEnv && fromEnv.length > 0) return fromKubeconfigFile(fromEnv[0] as string, undefined, timeouts);
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return fromKubeconfigFile(home, undefined, timeouts);
  if (env.KUBERNETES_SERVICE_HOST) return inCluster(env, timeouts);
  throw new Error('no Kubernetes credentials: KUBECONFIG is unset, ~/.kube/config does not exist and this is not a Pod (KUBERNETES_SERVICE_HOST is unset)');
}

/** Inside a Pod: the API server's Service address and the mounted ServiceAccount token and CA. */
export function inCluster(env: NodeJS.ProcessEnv, timeouts?: KubeTimeouts, dir = SERVICE_ACCOUNT_DIR): ClusterConfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const token = fileToken(join(dir, 'token'));
  token(); // fail at start-up, not on the first call, when the token is not mounted
  return new ClusterConfig(server, { ca: readFileSync(join(dir, 'ca.crt')), authorization: () => `Bearer ${token()}` }, timeouts);
}

type Named<K extends string, T> = { name?: string } & { [key in K]?: T };
interface ClusterEntry { server?: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean; 'tls-server-name'?: string }
interface ExecConfig { command?: string; args?: string[]; env?: Array<{ name: string; value: string }>; apiVersion?: string }
interface UserEntry {
  token?: string; tokenFile?: string; username?: string; password?: string;
  'client-certificate'?: string; 'client-certificate-data'?: string; 'client-key'?: string; 'client-key-data'?: string;
  exec?: ExecConfig; 'auth-provider'?: unknown;
}
interface KubeconfigFile {
  clusters?: Array<Named<'cluster', ClusterEntry>>;
  users?: Array<Named<'user', UserEntry>>;
  contexts?: Array<Named<'context', { cluster?: string; user?: string }>>;
  'current-context'?: string;
}

/** One context of a kubeconfig file (default: its current context); relative paths are relative to the file. */
export function fromKubeconfigFile(path: string, context?: string, timeouts?: KubeTimeouts): ClusterConfig {
  const doc = (parse(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile;
  const { cluster, user } = resolveContext(doc, path, context ?? doc['current-context']);
  const files = new FileData(dirname(path));
  return new ClusterConfig(cluster.server, { ...clusterTls(cluster, files), ...userCredentials(user, files) }, timeouts);
}

function resolveContext(doc: KubeconfigFile, path: string, name: string | undefined): { cluster: ClusterEntry & { server: string }; user: UserEntry } {
  const ctx = named(doc.contexts, name, 'context');
  if (!ctx) throw new Error(`${path}: no context ${JSON.stringify(name ?? '')}`);
  const cluster = named(doc.clusters, ctx.cluster, 'cluster');
  const server = cluster?.server;
  if (!cluster || !server) throw new Error(`${path}: context ${name ?? ''} names cluster ${JSON.stringify(ctx.cluster ?? '')}, which has no server`);
  const user = named(doc.users, ctx.user, 'user') ?? {};
  if (user['auth-provider']) throw new Error(`${path}: user ${ctx.user ?? ''} uses an auth-provider, which the operator does not support (use a token, a client certificate or exec)`);
  return { cluster: { ...cluster, server }, user };
}

/** The entry of a kubeconfig list with this name. */
function named<K extends string, T>(list: Array<Named<K, T>> | undefined, name: string | undefined, key: K): T | undefined {
  return list?.find((entry) => entry.name === name)?.[key];
}

/** Inline base64 data or a file, relative to the kubeconfig's directory. */
class FileData {
  readonly #base: string;

  constructor(base: string) {
    this.#base = base;
  }

  path(p: string): string {
    return isAbsolute(p) ? p : join(this.#base, p);
  }

  read(inline: string | undefined, p: string | undefined): Buffer | undefined {
    if (inline !== undefined) return Buffer.from(inline, 'base64');
    return p === undefined ? undefined : readFileSync(this.path(p));
  }
}

function clusterTls(cluster: ClusterEntry, files: FileData): Credentials {
  return {
    ...optional('ca', files.read(cluster['certificate-authority-data'], cluster['certificate-authority'])),
    ...optional('serverName', cluster['tls-server-name']),
    ...(cluster['insecure-skip-tls-verify'] ? { insecure: true } : {}),
  };
}

function userCredentials(user: UserEntry, files: FileData): Credentials {
  const exec = user.exec ? execCredential(user.exec, files) : undefined;
  return {
    ...optional('cert', files.read(user['client-certificate-data'], user['client-certificate']) ?? exec?.cert),
    ...optional('key', files.read(user['client-key-data'], user['client-key']) ?? exec?.key),
    ...optional('authorization', authorization(user, exec, files)),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

function authorization(user: UserEntry, exec: ExecCredential | undefined, files: FileData): (() => string | undefined) | undefined {
  if (user.token) return () => `Bearer ${user.token ?? ''}`;
  if (user.tokenFile) {
    const token = fileToken(files.path(user.tokenFile));
    return () => `Bearer ${token()}`;
  }
  const execToken = exec?.token;
  if (execToken) return () => `Bearer ${execToken()}`;
  if (user.username !== undefined) return () => `Basic ${Buffer.from(`${user.username ?? ''}:${user.password ?? ''}`).toString('base64')}`;
  return undefined;
}

/** A token file, re-read at most once a minute. */
function fileToken(path: string): () => string {
  let cached: { token: string; at: number } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > TOKEN_FILE_TTL_MS) cached = { token: readFileSync(path, 'utf8').trim(), at: Date.now() };
    return cached.token;
  };
}

interface ExecCredential {
  readonly token?: () => string;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/**
 * A client-go credential plugin (e.g. gke-gcloud-auth-plugin): run once at start-up for a client
 * certificate, and again for a token whenever the last one has expired.
 */
function execCredential(exec: ExecConfig, files: FileData): ExecCredential {
  const run = (): { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } => {
    if (!exec.command) throw new Error('kubeconfig exec: no command');
    const command = exec.command.includes('/') ? files.path(exec.command) : exec.command;
    const info = { apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } };
    const env = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info), ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])) };
    const out = spawnSync(command, exec.args ?? [], { env, encoding: 'utf8', timeout: 30_000 });
    if (out.status !== 0) throw new Error(`kubeconfig exec ${command} failed: ${(out.stderr || String(out.error ?? '')).trim().split('\n')[0] ?? ''}`);
    return (JSON.parse(out.stdout) as { status?: ReturnType<typeof run> }).status ?? {};
  };
  const first = run();
  let current = first;
  const expired = (): boolean => current.expirationTimestamp !== undefined && Date.parse(current.expirationTimestamp) - 10_000 < Date.now();
  return {
    ...(first.token !== undefined ? { token: () => ((current = expired() ? run() : current).token ?? '') } : {}),
    ...optional('cert', first.clientCertificateData === undefined ? undefined : Buffer.from(first.clientCertificateData)),
    ...optional('key', first.clientKeyData === undefined ? undefined : Buffer.from(first.clientKeyData)),
  };
}
