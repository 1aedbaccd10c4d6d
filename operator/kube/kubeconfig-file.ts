// Reading kubeconfig files as kubectl (client-go's clientcmd) does: a KUBECONFIG list is merged
// (the first file to name a cluster, user or context wins, and current-context comes from the
// first file that sets one; files that do not exist are skipped), and relative paths resolve
// against the file that holds the entry. Every key of the chosen context, cluster and user is
// either applied or refused by name: an ignored `as` or `proxy-url` would silently run with other
// rights or over another route than the file says.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export interface ExecEnvVar { readonly name: string; readonly value: string }

export interface ExecConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: readonly ExecEnvVar[];
  readonly apiVersion: string;
  readonly installHint?: string;
  readonly provideClusterInfo: boolean;
}

export interface ClusterEntry {
  readonly server: string;
  readonly ca?: Buffer;
  readonly tlsServerName?: string;
  readonly insecure: boolean;
  readonly proxyUrl?: string;
  /** The cluster's `client.authentication.k8s.io/exec` extension, handed to an exec plugin with provideClusterInfo. */
  readonly execExtension?: unknown;
}

export interface Impersonation {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export interface UserEntry {
  readonly token?: string;
  /** Absolute. */
  readonly tokenFile?: string;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly exec?: ExecConfig;
  readonly impersonate?: Impersonation;
}

export interface ResolvedContext {
  readonly cluster: ClusterEntry;
  readonly user: UserEntry;
}

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;

// The keys of client-go's clientcmd v1 types. Those marked "ignored" change nothing for a client
// that makes the operator's requests: `extensions` are hints for other tools (the exec one is
// read), `preferences` only colour kubectl's output, a context's `namespace` is kubectl's default
// namespace (the operator names the namespace of every request), and `disable-compression` turns
// off a gzip request that this client never makes (it sends no Accept-Encoding).
const CLUSTER_KEYS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'proxy-url', 'disable-compression', 'extensions']);
const USER_KEYS = new Set(['token', 'tokenFile', 'username', 'password', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'exec', 'as', 'as-uid', 'as-groups', 'as-user-extra', 'extensions']);
const CONTEXT_KEYS = new Set(['cluster', 'user', 'namespace', 'extensions']);
const EXEC_KEYS = new Set(['command', 'args', 'env', 'apiVersion', 'installHint', 'provideClusterInfo', 'interactiveMode']);
/** Refused with a reason rather than as unknown. */
const REFUSED: Readonly<Record<string, string>> = {
  'auth-provider': 'the operator does not support auth-provider plugins (use a token, a client certificate or exec, e.g. gke-gcloud-auth-plugin)',
};

type Doc = Record<string, unknown>;
interface Entry { readonly value: Doc; readonly file: string }

interface Merged {
  readonly clusters: Map<string, Entry>;
  readonly users: Map<string, Entry>;
  readonly contexts: Map<string, Entry>;
  currentContext: string | undefined;
  readonly files: readonly string[];
}

/** The files of a KUBECONFIG list merged; fails when none of them exists. */
export function readKubeconfigFiles(paths: readonly string[]): Merged {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: undefined, files: paths };
  // kubectl skips a missing file of the list (one list serves several machines).
  const present = paths.filter((path) => existsSync(path));
  if (present.length === 0) throw new Error(`no kubeconfig: none of ${paths.join(', ')} exists`);
  for (const path of present) mergeFile(merged, path);
  return merged;
}

function mergeFile(merged: Merged, path: string): void {
  const doc = parse(readFileSync(path, 'utf8')) as unknown ?? {};
  if (!isObject(doc)) throw new Error(`${path}: not a kubeconfig (a YAML mapping)`);
  mergeList(merged.clusters, doc, 'clusters', 'cluster', path);
  mergeList(merged.users, doc, 'users', 'user', path);
  mergeList(merged.contexts, doc, 'contexts', 'context', path);
  const current = doc['current-context'];
  if (merged.currentContext === undefined && typeof current === 'string' && current !== '') merged.currentContext = current;
}

/** The first file to define a name keeps it. */
function mergeList(map: Map<string, Entry>, doc: Doc, list: string, key: string, path: string): void {
  const entries = doc[list] ?? [];
  if (!Array.isArray(entries)) throw new Error(`${path}: ${list} is not a list`);
  for (const entry of entries as unknown[]) {
    if (!isObject(entry) || typeof entry.name !== 'string') throw new Error(`${path}: an entry of ${list} has no name`);
    const value = entry[key] ?? {};
    if (!isObject(value)) throw new Error(`${path}: ${list} ${entry.name}: ${key} is not a mapping`);
    if (!map.has(entry.name)) map.set(entry.name, { value, file: path });
  }
}

/** One context (default: the current one) with its cluster and user, every key checked. */
export function resolveContext(merged: Merged, name?: string): ResolvedContext {
  const where = merged.files.join(':');
  const contextName = name ?? merged.currentContext;
  if (contextName === undefined) throw new Error(`${where}: no current-context, and no context was named`);
  const context = merged.contexts.get(contextName);
  if (!context) throw new Error(`${where}: no context ${JSON.stringify(contextName)}`);
  checkKeys(context.value, CONTEXT_KEYS, `${context.file}: context ${contextName}`);
  const cluster = namedCluster(merged, context, contextName);
  const userName = stringKey(context, 'user', `${context.file}: context ${contextName}`);
  if (userName === undefined || userName === '') return { cluster, user: {} }; // no credentials: a plain-HTTP `kubectl proxy`
  const user = merged.users.get(userName);
  // As kubectl: a user that is named but not defined is an error, never an anonymous request.
  if (!user) throw new Error(`${context.file}: context ${contextName} names user ${JSON.stringify(userName)}, which is not defined`);
  return { cluster, user: userEntry(user, userName) };
}

function namedCluster(merged: Merged, context: Entry, contextName: string): ClusterEntry {
  const clusterName = stringKey(context, 'cluster', `${context.file}: context ${contextName}`) ?? '';
  const cluster = merged.clusters.get(clusterName);
  if (!cluster || typeof cluster.value.server !== 'string' || cluster.value.server === '') {
    throw new Error(`${cluster?.file ?? context.file}: context ${contextName} names cluster ${JSON.stringify(clusterName)}, which has no server`);
  }
  return clusterEntry(cluster, clusterName);
}

function clusterEntry(entry: Entry, name: string): ClusterEntry {
  const where = `${entry.file}: cluster ${name}`;
  checkKeys(entry.value, CLUSTER_KEYS, where);
  const proxyUrl = stringKey(entry, 'proxy-url', where);
  if (proxyUrl !== undefined && !/^https?:\/\//.test(proxyUrl)) throw new Error(`${where}: proxy-url ${withoutUserinfo(proxyUrl)}: only http:// and https:// proxies are supported (not socks5)`);
  const tlsServerName = stringKey(entry, 'tls-server-name', where);
  const execExtension = extension(entry.value.extensions, 'client.authentication.k8s.io/exec');
  const ca = fileData(entry, 'certificate-authority-data', 'certificate-authority', where);
  const insecure = boolKey(entry, 'insecure-skip-tls-verify', where);
  // As client-go: a CA that would be ignored is a mistake to report, not a setting to apply.
  if (insecure && ca !== undefined) throw new Error(`${where}: insecure-skip-tls-verify and certificate-authority(-data) are both set; keep one (a CA is not checked when TLS verification is off)`);
  return {
    server: stringKey(entry, 'server', where) ?? '',
    ...optional('ca', ca),
    ...optional('tlsServerName', tlsServerName),
    insecure,
    ...optional('proxyUrl', proxyUrl),
    ...optional('execExtension', execExtension),
  };
}

function userEntry(entry: Entry, name: string): UserEntry {
  const where = `${entry.file}: user ${name}`;
  checkKeys(entry.value, USER_KEYS, where);
  // An empty value is unset, as in kubectl.
  const token = stringKey(entry, 'token', where) || undefined;
  const tokenFile = stringKey(entry, 'tokenFile', where) || undefined;
  const basic = basicAuth(entry, where);
  const cert = fileData(entry, 'client-certificate-data', 'client-certificate', where);
  const key = fileData(entry, 'client-key-data', 'client-key', where);
  if ((cert === undefined) !== (key === undefined)) throw new Error(`${where}: a client certificate needs both client-certificate(-data) and client-key(-data)`);
  // client-go reads a tokenFile beside a token and lets the file win; refused rather than guessed.
  if (token !== undefined && tokenFile !== undefined) throw new Error(`${where}: token and tokenFile are both set; keep one`);
  // `exec: null` (or `exec:` with nothing after it) is no plugin, as in kubectl.
  const exec = entry.value.exec ?? undefined;
  oneMethod(where, { token: token ?? tokenFile, 'username/password': basic, exec, 'client certificate': exec === undefined ? undefined : cert });
  return {
    ...optional('token', token),
    ...optional('tokenFile', tokenFile === undefined ? undefined : resolvePath(entry.file, tokenFile)),
    ...optional('basic', basic),
    ...optional('cert', cert),
    ...optional('key', key),
    ...optional('exec', exec === undefined ? undefined : execConfig(exec, entry.file, `${where}: exec`)),
    ...optional('impersonate', impersonation(entry, where)),
  };
}

/**
 * kubectl refuses a token beside a password, and quietly drops exec beside a token, a password or
 * a client certificate; all of these are refused here.
 */
function oneMethod(where: string, methods: Record<string, unknown>): void {
  const set = Object.keys(methods).filter((m) => methods[m] !== undefined);
  if (set.length > 1) throw new Error(`${where}: more than one way to authenticate (${set.join(', ')}); keep one`);
}

function basicAuth(entry: Entry, where: string): { username: string; password: string } | undefined {
  const username = stringKey(entry, 'username', where) || undefined;
  const password = stringKey(entry, 'password', where) || undefined;
  return username === undefined && password === undefined ? undefined : { username: username ?? '', password: password ?? '' };
}

function impersonation(entry: Entry, where: string): Impersonation | undefined {
  const v = entry.value;
  const user = stringKey(entry, 'as', where);
  const uid = stringKey(entry, 'as-uid', where);
  const groups = stringList(v['as-groups'], `${where}: as-groups`);
  const extra = v['as-user-extra'] ?? {};
  if (!isObject(extra)) throw new Error(`${where}: as-user-extra must map keys to lists of strings`);
  const extras = Object.fromEntries(Object.entries(extra).map(([k, list]) => [k, stringList(list, `${where}: as-user-extra ${k}`)]));
  checkHeaderValue(user, `${where}: as`);
  checkHeaderValue(uid, `${where}: as-uid`);
  for (const g of groups) checkHeaderValue(g, `${where}: as-groups`);
  for (const [k, list] of Object.entries(extras)) for (const value of list) checkHeaderValue(value, `${where}: as-user-extra ${k}`);
  if (user === undefined || user === '') {
    // The API server refuses groups, a UID or extras without a user to impersonate; say so here.
    if (uid !== undefined || groups.length > 0 || Object.keys(extras).length > 0) throw new Error(`${where}: as-uid, as-groups and as-user-extra need as (the user to impersonate)`);
    return undefined;
  }
  return { user, ...optional('uid', uid), groups, extra: extras };
}

/** Impersonation values travel as header values: a control character cannot be sent at all. */
function checkHeaderValue(value: string | undefined, where: string): void {
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  if (value !== undefined && /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw new Error(`${where}: ${JSON.stringify(value)} has a control character, which an HTTP header cannot carry`);
}

function execConfig(value: unknown, file: string, where: string): ExecConfig {
  if (!isObject(value)) throw new Error(`${where}: not a mapping`);
  checkKeys(value, EXEC_KEYS, where);
  const entry = { value, file };
  const command = stringKey(entry, 'command', where);
  if (command === undefined || command === '') throw new Error(`${where}: command is missing`);
  const apiVersion = stringKey(entry, 'apiVersion', where);
  if (apiVersion === undefined || !EXEC_API_VERSIONS.includes(apiVersion as typeof EXEC_API_VERSIONS[number])) throw new Error(`${where}: apiVersion ${JSON.stringify(apiVersion ?? '')} is not one of ${EXEC_API_VERSIONS.join(', ')}`);
  interactiveMode(entry, apiVersion, where);
  const env = value.env ?? [];
  if (!Array.isArray(env) || !env.every((e) => isObject(e) && typeof e.name === 'string' && typeof e.value === 'string')) throw new Error(`${where}: env must be a list of {name, value} strings`);
  const installHint = stringKey(entry, 'installHint', where);
  return {
    // A command with a directory part is relative to the kubeconfig file, as in kubectl; a bare name is looked up on PATH.
    command: command.includes('/') ? resolvePath(file, command) : command,
    args: stringList(value.args, `${where}: args`),
    env: env as ExecEnvVar[],
    apiVersion,
    ...optional('installHint', installHint),
    provideClusterInfo: boolKey(entry, 'provideClusterInfo', where),
  };
}

/**
 * As client-go: required for v1 ("interactiveMode must be specified"), IfAvailable by default for
 * v1beta1. The operator never has a terminal, so a plugin that must ask a person (Always) cannot work.
 */
function interactiveMode(entry: Entry, apiVersion: string, where: string): void {
  const given = stringKey(entry, 'interactiveMode', where);
  if ((given === undefined || given === '') && apiVersion === 'client.authentication.k8s.io/v1') throw new Error(`${where}: interactiveMode must be specified for ${apiVersion} (Never or IfAvailable), as kubectl requires`);
  const mode = given || 'IfAvailable';
  if (mode === 'Always') throw new Error(`${where}: interactiveMode Always needs a terminal, which the operator never has (use Never or IfAvailable)`);
  if (mode !== 'Never' && mode !== 'IfAvailable') throw new Error(`${where}: interactiveMode ${JSON.stringify(mode)} is not Never, IfAvailable or Always`);
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${where} must be a list of strings`);
  return value;
}

function checkKeys(value: Doc, known: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(value)) {
    const reason = REFUSED[key];
    if (reason) throw new Error(`${where}: ${key}: ${reason}`);
    if (!known.has(key)) throw new Error(`${where}: unknown key ${key} (the operator applies every key it accepts, and refuses the rest rather than ignore them)`);
  }
}

function stringKey(entry: Entry, key: string, where: string): string | undefined {
  const v = entry.value[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`${where}: ${key} must be a string`);
  return v;
}

function boolKey(entry: Entry, key: string, where: string): boolean {
  const v = entry.value[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new Error(`${where}: ${key} must be true or false`);
  return v;
}

/** Inline base64 data, else a file relative to the kubeconfig that names it. */
function fileData(entry: Entry, inlineKey: string, pathKey: string, where: string): Buffer | undefined {
  const inline = stringKey(entry, inlineKey, where);
  const path = stringKey(entry, pathKey, where);
  // client-go reports both as an error; one of them would be silently ignored.
  if (inline && path) throw new Error(`${where}: ${inlineKey} and ${pathKey} are both set; keep one`);
  if (inline !== undefined && inline !== '') return Buffer.from(inline, 'base64');
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(resolvePath(entry.file, path));
  } catch (err) {
    throw new Error(`${where}: ${pathKey} ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** A URL as it may be quoted in an error: without user:password@. */
function withoutUserinfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

export function resolvePath(file: string, path: string): string {
  return isAbsolute(path) ? path : join(dirname(file), path);
}

function extension(list: unknown, name: string): unknown {
  if (!Array.isArray(list)) return undefined;
  const found = (list as unknown[]).find((e) => isObject(e) && e.name === name);
  return isObject(found) ? found.extension : undefined;
}

function isObject(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}
