// A simulated GitHub Actions runner for the slsa-ml action: the documented GITHUB_* / RUNNER_*
// variables, inputs as INPUT_<NAME> with action.yml's defaults filled in, a $GITHUB_OUTPUT file,
// and the job's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN) served on localhost.
// Fulcio and Rekor are @sigstore/mock's (signing-sigstore-mock.ts, behind nock in this process);
// a local HTTP server forwards the action's requests to them, since the action runs as its own
// process exactly as the runner starts it: `node <runs.main>`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse } from 'yaml';

import { GITHUB_CLAIMS, GITHUB_SAN_CLAIM, identityToken, type GithubClaims, type SigstoreMock } from './signing-sigstore-mock.ts';
import { forward, listen } from './http-forward.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

export interface ActionRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** What the action appended to $GITHUB_OUTPUT. */
  readonly outputs: Readonly<Record<string, string>>;
}

export interface RunOptions {
  readonly inputs: Readonly<Record<string, string>>;
  /** Variables to add or override (undefined removes one, e.g. the OIDC endpoint). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly event?: object;
}

export interface TokenRequest {
  readonly audience: string | null;
  readonly authorized: boolean;
}

export interface ActionsRunner {
  readonly url: string;
  /** Every token request the endpoint answered, in order. */
  readonly tokenRequests: TokenRequest[];
  /** The last token the endpoint issued. */
  lastToken(): string | undefined;
  run(options: RunOptions): Promise<ActionRun>;
  close(): Promise<void>;
}

export async function startActionsRunner(mock: SigstoreMock, claims: Partial<GithubClaims> = {}): Promise<ActionsRunner> {
  const all: GithubClaims = { ...GITHUB_CLAIMS, ...claims };
  const requestToken = randomBytes(16).toString('hex');
  const tokenRequests: TokenRequest[] = [];
  let issued: string | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/oidc/token') {
      const authorized = req.headers.authorization === `bearer ${requestToken}`;
      tokenRequests.push({ audience: url.searchParams.get('audience'), authorized });
      if (!authorized) return reply(res, 401, { message: 'bad request token' });
      issued = identityToken({ ...all, aud: url.searchParams.get('audience') ?? '', [GITHUB_SAN_CLAIM]: `https://github.com/${all.job_workflow_ref}` });
      return reply(res, 200, { value: issued });
    }
    if (req.method === 'POST' && url.pathname.startsWith('/fulcio/')) return void forward(req, res, mock.fulcioURL + url.pathname.slice('/fulcio'.length));
    if (req.method === 'POST' && url.pathname.startsWith('/rekor/')) return void forward(req, res, mock.rekorURL + url.pathname.slice('/rekor'.length));
    return reply(res, 404, { message: 'not found' });
  });
  const url = await listen(server);
  const defaults = await actionDefaults();
  return {
    url,
    tokenRequests,
    lastToken: () => issued,
    run: (options) => runAction({ url, requestToken, claims: all, defaults }, options),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Fulcio and Rekor URLs to pass as the action's fulcio-url / rekor-url inputs. */
export function sigstoreInputs(runner: ActionsRunner): { 'fulcio-url': string; 'rekor-url': string } {
  return { 'fulcio-url': `${runner.url}/fulcio`, 'rekor-url': `${runner.url}/rekor` };
}

interface RunnerState {
  readonly url: string;
  readonly requestToken: string;
  readonly claims: GithubClaims;
  readonly defaults: Readonly<Record<string, string>>;
}

async function runAction(state: RunnerState, options: RunOptions): Promise<ActionRun> {
  const scratch = await mkdtemp(join(tmpdir(), 'slsa-ml-runner-'));
  try {
    const outputFile = join(scratch, 'github_output');
    const eventFile = join(scratch, 'event.json');
    await writeFile(outputFile, '');
    await writeFile(eventFile, JSON.stringify(options.event ?? {}));
    const env = { ...runnerEnv(state, { scratch, outputFile, eventFile }), ...inputEnv({ ...state.defaults, ...options.inputs }) };
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const { code, stdout, stderr } = await exec(process.execPath, [join(repoRoot, 'src', 'action', 'main.ts')], env, scratch);
    return { code, stdout, stderr, outputs: parseOutputs(await readFile(outputFile, 'utf8')) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// The variables the runner documents for every job (docs.github.com: "Variables reference").
function runnerEnv(state: RunnerState, paths: { scratch: string; outputFile: string; eventFile: string }): Record<string, string> {
  const { claims } = state;
  return {
    PATH: process.env.PATH ?? '',
    HOME: paths.scratch,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_REPOSITORY: claims.repository,
    GITHUB_REPOSITORY_OWNER: claims.repository_owner,
    GITHUB_REF: claims.ref,
    GITHUB_SHA: claims.sha,
    GITHUB_EVENT_NAME: claims.event_name,
    GITHUB_EVENT_PATH: paths.eventFile,
    GITHUB_WORKFLOW_REF: claims.workflow_ref,
    GITHUB_WORKFLOW_SHA: claims.workflow_sha,
    GITHUB_RUN_ID: claims.run_id,
    GITHUB_RUN_ATTEMPT: claims.run_attempt,
    GITHUB_JOB: 'provenance',
    GITHUB_ACTION: 'sign',
    GITHUB_WORKSPACE: paths.scratch,
    GITHUB_OUTPUT: paths.outputFile,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: join(paths.scratch, 'runner-temp'),
    RUNNER_ENVIRONMENT: claims.runner_environment,
    ACTIONS_ID_TOKEN_REQUEST_URL: `${state.url}/oidc/token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: state.requestToken,
  };
}

/** The runner's naming rule: INPUT_ + the name upper-cased, spaces as underscores (hyphens stay). */
function inputEnv(inputs: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]));
}

async function actionDefaults(): Promise<Record<string, string>> {
  const action = parse(await readFile(join(repoRoot, 'action.yml'), 'utf8')) as { inputs?: Record<string, { default?: string | number | boolean }> };
  const defaults: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs ?? {})) if (spec.default !== undefined) defaults[name] = `${spec.default}`;
  return defaults;
}

/** `name=value` lines and `name<<DELIMITER\nvalue\nDELIMITER` blocks, as the runner reads them. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const match = /^([^<=]+)<<(.+)$/.exec(line);
    if (!match) {
      const eq = line.indexOf('=');
      if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
      continue;
    }
    const end = lines.indexOf(match[2] as string, i + 1);
    if (end < 0) throw new Error(`GITHUB_OUTPUT: no closing delimiter for ${match[1] ?? ''}`);
    outputs[match[1] as string] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return outputs;
}

function exec(file: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function reply(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
