// A simulated GitLab CI/CD job running slsa-ml's component (templates/provenance.yml): the
// component's job with its inputs interpolated as GitLab does ($[[ inputs.x ]], defaults from
// spec:inputs), the job's predefined CI_* variables, its ID token (id_tokens) signed by the
// GitLab OIDC stand-in, and its script run by sh in the project directory with `slsa-ml` on PATH
// (as in the slsa-ml image). Fulcio and Rekor are the in-process stand-ins (nock): a local HTTP
// server forwards the job's requests to them.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';

import { parseAllDocuments } from 'yaml';

import type { GitlabClaims, GitlabOidc } from './gitlab-oidc.ts';
import type { SigstoreMock } from './signing-sigstore-mock.ts';
import { forward, listen } from './http-forward.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
export const COMPONENT = join(repoRoot, 'templates', 'provenance.yml');
const INPUT = /\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]/g;

export interface Component {
  readonly inputs: Record<string, { default?: unknown; type?: string; description?: string }>;
  /** The job's name and its definition, before interpolation. */
  readonly jobs: Record<string, Record<string, unknown>>;
}

export async function readComponent(path = COMPONENT): Promise<Component> {
  const docs = parseAllDocuments(await readFile(path, 'utf8'));
  const [header, body] = docs.map((d) => {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]?.message ?? ''}`);
    return d.toJS() as Record<string, unknown>;
  });
  const spec = (header?.spec ?? {}) as { inputs?: Component['inputs'] };
  return { inputs: spec.inputs ?? {}, jobs: (body ?? {}) as Component['jobs'] };
}

/** $[[ inputs.x ]] replaced as GitLab does: a value that is only the interpolation takes the input's type. */
export function interpolate(value: unknown, inputs: Readonly<Record<string, unknown>>): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]$/.exec(value);
    if (whole) return lookup(inputs, whole[1] as string);
    return value.replace(INPUT, (_, name: string) => String(lookup(inputs, name)));
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, inputs));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, inputs)]));
  return value;
}

function lookup(inputs: Readonly<Record<string, unknown>>, name: string): unknown {
  if (!(name in inputs)) throw new Error(`unknown interpolation key: ${name}`);
  return inputs[name];
}

/** The inputs with the component's defaults; a missing input without one is an error, as in GitLab. */
export function withDefaults(component: Component, given: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(component.inputs)) {
    if (name in given) inputs[name] = given[name];
    else if ('default' in spec) inputs[name] = spec.default;
    else throw new Error(`\`${name}\` input: required value has not been provided`);
  }
  for (const name of Object.keys(given)) if (!(name in component.inputs)) throw new Error(`unknown input name provided: \`${name}\``);
  return inputs;
}

export interface JobRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly projectDir: string;
  /** The ID tokens the job was given (its id_tokens variables, as finally set). */
  readonly idTokens: readonly string[];
}

export interface JobOptions {
  readonly claims: GitlabClaims;
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Files to place in the project directory first (the artifacts of `needs`). */
  readonly files?: Readonly<Record<string, Buffer | string>>;
  /** Variables to add or override (undefined removes one). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The token's claims, when they should differ from the job's variables (default: claims). */
  readonly tokenClaims?: Readonly<Record<string, unknown>>;
}

export interface GitlabJobRunner {
  /** Fulcio and Rekor as the job reaches them (the component's fulcio-url / rekor-url inputs). */
  readonly sigstoreInputs: { 'fulcio-url': string; 'rekor-url': string };
  run(options: JobOptions): Promise<JobRun>;
  close(): Promise<void>;
}

export async function startGitlabJobRunner(mock: SigstoreMock, oidc: GitlabOidc, root: string): Promise<GitlabJobRunner> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname.startsWith('/fulcio/')) return void forward(req, res, mock.fulcioURL + url.pathname.slice('/fulcio'.length));
    if (req.method === 'POST' && url.pathname.startsWith('/rekor/')) return void forward(req, res, mock.rekorURL + url.pathname.slice('/rekor'.length));
    res.writeHead(404).end();
  });
  const url = await listen(server);
  const bin = await slsaMlOnPath(root);
  const component = await readComponent();
  return {
    sigstoreInputs: { 'fulcio-url': `${url}/fulcio`, 'rekor-url': `${url}/rekor` },
    run: (options) => runJob(component, { oidc, root, bin }, options),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function runJob(component: Component, ctx: { oidc: GitlabOidc; root: string; bin: string }, options: JobOptions): Promise<JobRun> {
  const projectDir = await mkdtemp(join(ctx.root, 'project-'));
  for (const [path, content] of Object.entries(options.files ?? {})) {
    await mkdir(join(projectDir, path, '..'), { recursive: true });
    await writeFile(join(projectDir, path), content);
  }
  const [name, raw] = Object.entries(component.jobs)[0] ?? [];
  if (!name || !raw) throw new Error('the component defines no job');
  const job = interpolate(raw, withDefaults(component, options.inputs)) as { variables?: Record<string, string>; script?: string[]; id_tokens?: Record<string, { aud: string }> };
  const tokens = Object.fromEntries(Object.entries(job.id_tokens ?? {}).map(([variable, { aud }]) => [variable, ctx.oidc.token({ ...(options.tokenClaims ?? options.claims), aud })]));
  const env = overridden({ ...predefined(options.claims, projectDir, name), ...(job.variables ?? {}), ...tokens, PATH: `${ctx.bin}:${process.env.PATH ?? ''}`, HOME: projectDir }, options.env);
  // The runner runs the script's lines in one shell, stopping at the first that fails.
  const script = ['set -e', ...(job.script ?? [])].join('\n');
  const { code, stdout, stderr } = await exec('sh', ['-c', script], env, projectDir);
  const idTokens = Object.keys(tokens).flatMap((variable) => (env[variable] ? [env[variable]] : []));
  return { code, stdout, stderr, projectDir, idTokens };
}

function overridden(env: Record<string, string>, changes: JobOptions['env'] = {}): Record<string, string> {
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

// GitLab's predefined variables for this job (docs.gitlab.com: "Predefined CI/CD variables reference").
function predefined(claims: GitlabClaims, projectDir: string, jobName: string): Record<string, string> {
  const server = claims.iss;
  const host = new URL(server).host;
  return {
    CI: 'true',
    GITLAB_CI: 'true',
    CI_SERVER_URL: server,
    CI_SERVER_HOST: host,
    CI_SERVER_FQDN: host,
    CI_PROJECT_DIR: projectDir,
    CI_PROJECT_PATH: claims.project_path,
    CI_PROJECT_ID: claims.project_id,
    CI_PROJECT_NAMESPACE: claims.namespace_path,
    CI_PROJECT_NAMESPACE_ID: claims.namespace_id,
    CI_PROJECT_URL: `${server}/${claims.project_path}`,
    CI_PROJECT_VISIBILITY: claims.project_visibility,
    CI_COMMIT_SHA: claims.sha,
    CI_COMMIT_REF_NAME: claims.ref,
    CI_COMMIT_REF_PROTECTED: claims.ref_protected,
    ...refVariables(claims),
    CI_CONFIG_PATH: '.gitlab-ci.yml',
    CI_PIPELINE_ID: claims.pipeline_id,
    CI_PIPELINE_SOURCE: claims.pipeline_source,
    CI_JOB_ID: claims.job_id,
    CI_JOB_NAME: jobName,
    CI_JOB_URL: `${server}/${claims.project_path}/-/jobs/${claims.job_id}`,
    CI_JOB_IMAGE: 'ghcr.io/slsa-ml/slsa-ml:v0.1.0',
    CI_RUNNER_ID: String(claims.runner_id),
    GITLAB_USER_LOGIN: claims.user_login,
  };
}

// A merge-request pipeline has no CI_COMMIT_BRANCH; its ref is the MR's source branch.
function refVariables(claims: GitlabClaims): Record<string, string> {
  if (claims.ref_type === 'tag') return { CI_COMMIT_TAG: claims.ref };
  if (claims.pipeline_source === 'merge_request_event') return { CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: claims.ref, CI_MERGE_REQUEST_IID: '7' };
  return { CI_COMMIT_BRANCH: claims.ref };
}

// The image links /usr/local/bin/slsa-ml to operator/bin.ts.
async function slsaMlOnPath(root: string): Promise<string> {
  const bin = join(root, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'slsa-ml'), `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'operator', 'bin.ts')}" "$@"\n`);
  await chmod(join(bin, 'slsa-ml'), 0o755);
  return bin;
}

function exec(file: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
