// A client-go credential plugin (exec: gke-gcloud-auth-plugin and the like) as a credential
// source. The plugin runs as a child process without blocking the event loop (watches, health
// probes and Lease renewal go on meanwhile), at most one run at a time (every request that needs a
// credential meanwhile waits for that run), within a deadline. Its answer is kept until its
// expirationTimestamp has passed or the API server refuses it (401).
import { spawn } from 'node:child_process';
import type { ClusterEntry, ExecConfig } from './kubeconfig-file.ts';
import type { Credential, CredentialSource } from './credentials.ts';

/** A plugin that has not answered in this long is killed and the request fails (retryable). */
export const EXEC_TIMEOUT_MS = 30_000;
/** More output than any credential: a plugin that floods stdout is stopped. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

interface ExecStatus { token?: unknown; clientCertificateData?: unknown; clientKeyData?: unknown; expirationTimestamp?: unknown }

export class ExecCredentialSource implements CredentialSource {
  readonly #exec: ExecConfig;
  readonly #cluster: ClusterEntry;
  readonly #timeoutMs: number;
  #cached: { readonly credential: Credential; readonly expiresAt: number | undefined } | undefined;
  #running: Promise<Credential> | undefined;

  constructor(exec: ExecConfig, cluster: ClusterEntry, timeoutMs = EXEC_TIMEOUT_MS) {
    this.#exec = exec;
    this.#cluster = cluster;
    this.#timeoutMs = timeoutMs;
  }

  current(): Promise<Credential> {
    const cached = this.#cached;
    if (cached && (cached.expiresAt === undefined || Date.now() < cached.expiresAt)) return Promise.resolve(cached.credential);
    this.#running ??= this.#run().then((fresh) => {
      this.#cached = fresh;
      return fresh.credential;
    }).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  refused(used: Credential): boolean {
    // Only the credential now cached: a 401 to an older one must not discard a newer one.
    if (this.#cached?.credential === used) this.#cached = undefined;
    return true;
  }

  async #run(): Promise<{ credential: Credential; expiresAt: number | undefined }> {
    const exec = this.#exec;
    const stdout = await runPlugin(exec, execInfo(exec, this.#cluster), this.#timeoutMs);
    return parseExecCredential(stdout, exec);
  }
}

/** KUBERNETES_EXEC_INFO: never interactive; the cluster's details when provideClusterInfo asks for them. */
function execInfo(exec: ExecConfig, cluster: ClusterEntry): string {
  const spec: Record<string, unknown> = { interactive: false };
  if (exec.provideClusterInfo) {
    spec.cluster = {
      server: cluster.server,
      ...(cluster.tlsServerName !== undefined ? { 'tls-server-name': cluster.tlsServerName } : {}),
      ...(cluster.insecure ? { 'insecure-skip-tls-verify': true } : {}),
      ...(cluster.ca ? { 'certificate-authority-data': cluster.ca.toString('base64') } : {}),
      ...(cluster.proxyUrl !== undefined ? { 'proxy-url': cluster.proxyUrl } : {}),
      ...(cluster.execExtension !== undefined ? { config: cluster.execExtension } : {}),
    };
  }
  return JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec });
}

function runPlugin(exec: ExecConfig, info: string, timeoutMs: number): Promise<string> {
  const env = { ...process.env, ...Object.fromEntries(exec.env.map((e) => [e.name, e.value])), KUBERNETES_EXEC_INFO: info };
  return new Promise((resolve, reject) => {
    const child = spawn(exec.command, exec.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let settled = false;
    // Settles at once: a plugin's own children (a shell script's) may hold its output open after it is killed.
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`kubeconfig exec ${exec.command}: no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > MAX_OUTPUT_BYTES) fail(new Error(`kubeconfig exec ${exec.command}: more than ${MAX_OUTPUT_BYTES} bytes of output`));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 4096) err += chunk.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'ENOENT' && exec.installHint ? `; ${exec.installHint.trim().replace(/\s*\n\s*/g, ' ')}` : '';
      fail(new Error(`kubeconfig exec ${exec.command}: ${e.message}${hint}`));
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`kubeconfig exec ${exec.command} failed (${signal ?? `exit ${String(code)}`}): ${stderrLine(err)}`));
      else resolve(Buffer.concat(out).toString('utf8'));
    });
  });
}

/** Longest stderr line quoted in an error (which goes to logs and Events). */
const STDERR_LINE_CHARS = 200;

/**
 * The first line of a failed plugin's stderr, for the error: capped, and with what looks like a
 * credential redacted (a plugin may print the token it could not use, or a request it made).
 */
export function stderrLine(stderr: string): string {
  const line = stderr.trim().split('\n')[0] ?? '';
  const redacted = line
    .replace(/\b(Bearer|Basic)\s+\S+/gi, '$1 [redacted]')
    // key=value and key: value secrets, however short (password=hunter2, client_secret: abc)
    .replace(/\b([\w-]*(?:token|secret|password|passwd|key))(\s*[=:]\s*)(?!\[redacted\])[^\s,;&]+/gi, '$1$2[redacted]')
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1[redacted]@')
    // JWTs, and long base64 or hex runs (access tokens, keys, client secrets); a base64 run must
    // mix digits and both cases, so that a long path or plugin name is still shown.
    .replace(/[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[redacted]')
    .replace(/[A-Za-z0-9+/_=-]{32,}/g, (run) => (/\d/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run) ? '[redacted]' : run))
    .replace(/\b[0-9a-f]{40,}\b/gi, '[redacted]');
  return redacted.length > STDERR_LINE_CHARS ? `${redacted.slice(0, STDERR_LINE_CHARS)}…` : redacted;
}

/** The plugin's ExecCredential, checked as client-go checks it. */
export function parseExecCredential(stdout: string, exec: ExecConfig): { credential: Credential; expiresAt: number | undefined } {
  const where = `kubeconfig exec ${exec.command}`;
  let doc: { apiVersion?: unknown; kind?: unknown; status?: ExecStatus };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    throw new Error(`${where}: its output is not JSON`);
  }
  if (doc.apiVersion !== exec.apiVersion || doc.kind !== 'ExecCredential') throw new Error(`${where}: answered ${String(doc.apiVersion)} ${String(doc.kind)}, not the ${exec.apiVersion} ExecCredential it was asked for`);
  const status = doc.status;
  if (!status) throw new Error(`${where}: its ExecCredential has no status`);
  const str = (key: keyof ExecStatus): string | undefined => statusString(status, key, where);
  const token = str('token');
  const cert = str('clientCertificateData');
  const key = str('clientKeyData');
  if ((cert === undefined) !== (key === undefined)) throw new Error(`${where}: status has clientCertificateData or clientKeyData without the other`);
  if (token === undefined && cert === undefined) throw new Error(`${where}: status has neither a token nor a client certificate`);
  const expiresAt = expiry(str('expirationTimestamp'), where);
  return {
    credential: {
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...(cert !== undefined ? { cert: Buffer.from(cert), key: Buffer.from(key ?? '') } : {}),
    },
    expiresAt,
  };
}

function statusString(status: ExecStatus, key: keyof ExecStatus, where: string): string | undefined {
  const v = status[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Error(`${where}: status.${key} is not a string`);
  return v;
}

function expiry(timestamp: string | undefined, where: string): number | undefined {
  const at = timestamp === undefined ? undefined : Date.parse(timestamp);
  if (Number.isNaN(at)) throw new Error(`${where}: status.expirationTimestamp ${String(timestamp)} is not a time`);
  return at;
}
