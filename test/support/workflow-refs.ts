// The references in GitHub Actions workflows that GitHub resolves only at run time — inputs,
// secrets, step and job outputs, reusable-workflow calls, this repository's action — checked
// against what each file declares, without network. What cannot be known offline (a third-party
// action's outputs, a remote reusable workflow) is not guessed at.
import { parseDocument } from 'yaml';

/** How a workflow step names this repository's action: the reusable workflow checks it out here. */
export const LOCAL_ACTION = './.slsa-ml';

export type Rule = 'inputs' | 'secrets' | 'steps' | 'needs' | 'workflow-outputs' | 'action-call' | 'checkout' | 'workflow-call' | 'pinning';

export interface Finding {
  readonly rule: Rule;
  readonly file: string;
  /** YAML path of the offending value, e.g. `jobs.provenance.steps[4].with.subjects`. */
  readonly at: string;
  /** The reference, key or `uses:` value at fault, e.g. `inputs.subjetcs`. */
  readonly ref: string;
  readonly message: string;
}

export interface Source { readonly file: string; readonly text: string }
export interface InputSpec { readonly required: boolean; readonly default: string | undefined }

export interface ActionMeta {
  readonly inputs: ReadonlyMap<string, InputSpec>;
  readonly outputs: readonly string[];
  readonly using: unknown;
  readonly main: unknown;
}

type Obj = Readonly<Record<string, unknown>>;
export interface Step { readonly at: string; readonly raw: Obj; readonly id?: string; readonly uses?: string; readonly run?: string; readonly with: Obj }
interface Job {
  readonly name: string;
  readonly raw: Obj;
  readonly needs: readonly string[];
  readonly outputs: Obj;
  readonly uses?: string;
  readonly with: Obj;
  readonly secrets: Obj | 'inherit';
  readonly steps: readonly Step[];
}
interface WorkflowCall { readonly inputs: ReadonlyMap<string, InputSpec>; readonly secrets: ReadonlyMap<string, InputSpec>; readonly outputs: Obj }

export interface Workflow {
  readonly file: string;
  readonly raw: Obj;
  readonly triggers: readonly string[];
  /** workflow_call and workflow_dispatch inputs together: `inputs.X` may name either. */
  readonly inputs: ReadonlyMap<string, InputSpec>;
  readonly call?: WorkflowCall;
  readonly jobs: ReadonlyMap<string, Job>;
}

/** One `inputs.` / `secrets.` / `steps.` / `needs.` / `jobs.` reference inside an expression. */
export interface Reference { readonly at: string; readonly text: string; readonly context: string; readonly path: readonly string[] }

interface Scope { readonly job?: Job; readonly steps?: readonly Step[]; readonly callOutputs?: boolean }
interface World { readonly workflows: ReadonlyMap<string, Workflow>; readonly action: ActionMeta }

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function parseYaml(source: Source): Obj {
  const doc = parseDocument(source.text);
  if (doc.errors.length > 0) throw new Error(`${source.file}: ${doc.errors.map(String).join('; ')}`);
  return obj(doc.toJS());
}

function specs(value: unknown): ReadonlyMap<string, InputSpec> {
  return new Map(Object.entries(obj(value)).map(([name, v]) => {
    const { required, default: given } = obj(v);
    const scalar = typeof given === 'string' || typeof given === 'number' || typeof given === 'boolean';
    return [name, { required: required === true, default: scalar ? String(given) : undefined }];
  }));
}

export function parseAction(source: Source): ActionMeta {
  const raw = parseYaml(source);
  const runs = obj(raw.runs);
  return { inputs: specs(raw.inputs), outputs: Object.keys(obj(raw.outputs)), using: runs.using, main: runs.main };
}

function parseStep(raw: Obj, at: string): Step {
  return { at, raw, id: str(raw.id), uses: str(raw.uses), run: str(raw.run), with: obj(raw.with) };
}

function parseJob(name: string, raw: Obj): Job {
  const needs = typeof raw.needs === 'string' ? [raw.needs] : list(raw.needs).map(String);
  const steps = list(raw.steps).map((s, i) => parseStep(obj(s), `jobs.${name}.steps[${i}]`));
  const secrets = raw.secrets === 'inherit' ? 'inherit' : obj(raw.secrets);
  return { name, raw, needs, outputs: obj(raw.outputs), uses: str(raw.uses), with: obj(raw.with), secrets, steps };
}

export function parseWorkflow(source: Source): Workflow {
  const raw = parseYaml(source);
  const on = raw.on;
  const triggers = typeof on === 'string' ? [on] : Array.isArray(on) ? on.map(String) : Object.keys(obj(on));
  const callRaw = obj(obj(on).workflow_call);
  const call = triggers.includes('workflow_call')
    ? { inputs: specs(callRaw.inputs), secrets: specs(callRaw.secrets), outputs: obj(callRaw.outputs) }
    : undefined;
  const inputs = new Map([...(call?.inputs ?? []), ...specs(obj(obj(on).workflow_dispatch).inputs)]);
  const jobs = new Map(Object.entries(obj(raw.jobs)).map(([name, job]) => [name, parseJob(name, obj(job))]));
  return { file: source.file, raw, triggers, inputs, call, jobs };
}

// --- expressions -------------------------------------------------------------------------------

interface Site { readonly at: string; readonly expr: string; readonly scope: Scope }

/** Every `${{ … }}` under a value, with the YAML path it sits at. */
function expressions(value: unknown, at: string, scope: Scope): Site[] {
  if (typeof value === 'string') return [...value.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => ({ at, expr: m[1] ?? '', scope }));
  if (Array.isArray(value)) return value.flatMap((v, i) => expressions(v, `${at}[${i}]`, scope));
  return Object.entries(obj(value)).flatMap(([k, v]) => expressions(v, `${at}.${k}`, scope));
}

/** A job's or step's `if:` is an expression even without `${{ }}`. */
function implicitIf(raw: Obj, at: string, scope: Scope): Site[] {
  return typeof raw.if === 'string' && !raw.if.includes('${{') ? [{ at: `${at}.if`, expr: raw.if, scope }] : [];
}

function sites(wf: Workflow): Site[] {
  const top = Object.entries(wf.raw).filter(([k]) => k !== 'on' && k !== 'jobs').flatMap(([k, v]) => expressions(v, k, {}));
  const outputs = expressions(wf.call?.outputs ?? {}, 'on.workflow_call.outputs', { callOutputs: true });
  return [...top, ...outputs, ...[...wf.jobs.values()].flatMap(jobSites)];
}

function jobSites(job: Job): Site[] {
  const at = `jobs.${job.name}`;
  const own = Object.entries(job.raw).filter(([k]) => k !== 'steps' && k !== 'outputs').flatMap(([k, v]) => expressions(v, `${at}.${k}`, { job }));
  // Job outputs are evaluated after every step; a step sees only the steps before it.
  const outputs = expressions(job.outputs, `${at}.outputs`, { job, steps: job.steps });
  const steps = job.steps.flatMap((step, i) => {
    const scope = { job, steps: job.steps.slice(0, i) };
    return [...expressions(step.raw, step.at, scope), ...implicitIf(step.raw, step.at, scope)];
  });
  return [...implicitIf(job.raw, at, { job }), ...own, ...outputs, ...steps];
}

// A string literal is skipped whole, so `'inputs.x'` is no reference; `github.event.inputs.x` is
// not one either (the look-behind): only the contexts themselves are.
const TOKEN = /'(?:[^']|'')*'|(?<![\w.\]-])(inputs|secrets|steps|needs|jobs)((?:\.[A-Za-z_][\w-]*|\[\s*'(?:[^']|'')*'\s*\])+)/g;
const SEGMENT = /\.([A-Za-z_][\w-]*)|\[\s*'((?:[^']|'')*)'\s*\]/g;

function refsIn(site: Site): Reference[] {
  return [...site.expr.matchAll(TOKEN)].filter((m) => m[1]).map((m) => ({
    at: site.at,
    text: m[0],
    context: m[1] ?? '',
    path: [...(m[2] ?? '').matchAll(SEGMENT)].map((s) => s[1] ?? (s[2] ?? '').replaceAll("''", "'")),
  }));
}

export function references(wf: Workflow): Reference[] {
  return sites(wf).flatMap(refsIn);
}

// --- what a reference may name -----------------------------------------------------------------

/** Output names a `run:` step writes with `echo "NAME=…" >> "$GITHUB_OUTPUT"`; undefined when it writes them otherwise. */
export function runOutputs(script: string): string[] | undefined {
  const names: string[] = [];
  for (const line of script.replace(/\\\n/g, ' ').split('\n').filter((l) => l.includes('GITHUB_OUTPUT'))) {
    const m = /^\s*echo\s+["']?([A-Za-z_][\w-]*)=.*>>\s*"?\$\{?GITHUB_OUTPUT\}?"?\s*$/.exec(line);
    if (!m?.[1]) return undefined;
    names.push(m[1]);
  }
  return names;
}

function stepOutputs(step: Step, world: World): readonly string[] | undefined {
  if (step.uses === LOCAL_ACTION) return world.action.outputs;
  return step.run === undefined ? undefined : runOutputs(step.run);
}

function calledWorkflow(uses: string, world: World): Workflow | undefined {
  return uses.startsWith('./') ? world.workflows.get(uses.slice(2)) : undefined;
}

function jobOutputs(job: Job, world: World): readonly string[] | undefined {
  if (job.uses === undefined) return Object.keys(job.outputs);
  const callee = calledWorkflow(job.uses, world);
  return callee?.call ? Object.keys(callee.call.outputs) : undefined;
}

/** `outputs.O` must be a known output (when the outputs can be known); other properties one of `props`. */
function missingOutput(owner: string, outs: readonly string[] | undefined, path: readonly string[], props: readonly string[]): string | undefined {
  const [, prop, out] = path;
  if (prop === undefined) return undefined;
  if (prop !== 'outputs') return props.includes(prop) ? undefined : `${owner} has no property "${prop}"`;
  return out === undefined || outs === undefined || outs.includes(out) ? undefined : `${owner} has no output "${out}"`;
}

function stepsProblem(ref: Reference, scope: Scope, world: World): string | undefined {
  if (!scope.job || !scope.steps) return 'the steps context is only available in steps and job outputs';
  const id = ref.path[0] ?? '';
  const step = scope.steps.find((s) => s.id === id);
  if (!step) return `no step with id "${id}" before this point in job "${scope.job.name}"`;
  return missingOutput(`step "${id}" (${step.uses ?? 'run'})`, stepOutputs(step, world), ref.path, ['outcome', 'conclusion']);
}

function jobProblem(ref: Reference, owner: Job | undefined, world: World): string | undefined {
  const name = ref.path[0] ?? '';
  if (!owner) return `no job "${name}"`;
  return missingOutput(`job "${name}"${owner.uses ? ` (${owner.uses})` : ''}`, jobOutputs(owner, world), ref.path, ['result']);
}

function needsProblem(ref: Reference, scope: Scope, wf: Workflow, world: World): string | undefined {
  if (!scope.job) return 'the needs context is only available inside a job';
  const name = ref.path[0] ?? '';
  if (!scope.job.needs.includes(name)) return `job "${name}" is not in the needs of job "${scope.job.name}"`;
  return jobProblem(ref, wf.jobs.get(name), world);
}

function refProblem(ref: Reference, scope: Scope, wf: Workflow, world: World): string | undefined {
  const name = ref.path[0] ?? '';
  switch (ref.context) {
    case 'inputs':
      return wf.inputs.has(name) ? undefined : `no input "${name}" in on.workflow_call.inputs or on.workflow_dispatch.inputs`;
    case 'secrets': // Only a workflow that runs solely on workflow_call is limited to the secrets it declares.
      return !wf.call || wf.triggers.length > 1 || name === 'GITHUB_TOKEN' || wf.call.secrets.has(name) ? undefined : `no secret "${name}" in on.workflow_call.secrets`;
    case 'steps':
      return stepsProblem(ref, scope, world);
    case 'needs':
      return needsProblem(ref, scope, wf, world);
    default: // jobs
      return scope.callOutputs ? jobProblem(ref, wf.jobs.get(name), world) : 'the jobs context is only available in on.workflow_call.outputs';
  }
}

const RULE: Readonly<Record<string, Rule>> = { inputs: 'inputs', secrets: 'secrets', steps: 'steps', needs: 'needs', jobs: 'workflow-outputs' };

function referenceFindings(wf: Workflow, world: World): Finding[] {
  return sites(wf).flatMap((site) => refsIn(site).flatMap((ref) => {
    const message = refProblem(ref, site.scope, wf, world);
    return message ? [{ rule: RULE[ref.context] ?? 'inputs', file: wf.file, at: ref.at, ref: ref.text, message }] : [];
  }));
}

/** A reusable workflow's output whose value names no job output would always be empty. */
function callOutputFindings(wf: Workflow): Finding[] {
  return Object.entries(wf.call?.outputs ?? {}).flatMap(([name, spec]) => {
    const at = `on.workflow_call.outputs.${name}.value`;
    const refs = expressions(obj(spec).value, at, { callOutputs: true }).flatMap(refsIn);
    return refs.some((r) => r.context === 'jobs') ? [] : [{ rule: 'workflow-outputs' as const, file: wf.file, at, ref: name, message: 'does not name a jobs.<job>.outputs.<output>' }];
  });
}

// --- calls: this repository's action, local reusable workflows, pinning -----------------------------

/** `with:` keys outside `declared`, and required entries (`mustGive`) not given. */
function argumentProblems(given: Obj, declared: ReadonlyMap<string, InputSpec>, mustGive: (s: InputSpec) => boolean, what: string): Array<[string, string, string]> {
  const unknown = Object.keys(given).filter((k) => !declared.has(k)).map((k): [string, string, string] => [`.${k}`, k, `not ${what}`]);
  const missing = [...declared].filter(([k, s]) => mustGive(s) && !(k in given)).map(([k]): [string, string, string] => ['', k, `required, not given (${what})`]);
  return [...unknown, ...missing];
}

function actionCallFindings(wf: Workflow, job: Job, world: World): Finding[] {
  return job.steps.flatMap((step, i) => {
    if (step.uses !== LOCAL_ACTION) return [];
    const noDefault = (s: InputSpec): boolean => s.required && (s.default ?? '') === '';
    const args = argumentProblems(step.with, world.action.inputs, noDefault, 'an input of action.yml')
      .map(([sub, ref, message]): Finding => ({ rule: 'action-call', file: wf.file, at: `${step.at}.with${sub}`, ref, message }));
    const checkout = job.steps.slice(0, i).some((s) => s.uses?.startsWith('actions/checkout@') && s.with.path === LOCAL_ACTION.slice(2));
    const missing: Finding[] = checkout ? [] : [{ rule: 'checkout', file: wf.file, at: `${step.at}.uses`, ref: LOCAL_ACTION, message: `no earlier actions/checkout step with path: ${LOCAL_ACTION.slice(2)}` }];
    return [...args, ...missing];
  });
}

function workflowCallFindings(wf: Workflow, job: Job, world: World): Finding[] {
  if (job.uses === undefined || !job.uses.startsWith('./')) return [];
  const at = `jobs.${job.name}`;
  const callee = calledWorkflow(job.uses, world);
  if (!callee?.call) return [{ rule: 'workflow-call', file: wf.file, at: `${at}.uses`, ref: job.uses, message: 'not a reusable workflow (on.workflow_call) in this repository' }];
  const required = (s: InputSpec): boolean => s.required;
  const inputs = argumentProblems(job.with, callee.call.inputs, required, `an input of ${callee.file}`).map(([sub, ref, message]) => ({ at: `${at}.with${sub}`, ref, message }));
  const secrets = job.secrets === 'inherit' ? [] : argumentProblems(job.secrets, callee.call.secrets, required, `a secret of ${callee.file}`).map(([sub, ref, message]) => ({ at: `${at}.secrets${sub}`, ref, message }));
  return [...inputs, ...secrets].map((f) => ({ rule: 'workflow-call', file: wf.file, ...f }));
}

/** A third-party action or workflow pinned to anything but a full commit (or image digest) can change under us. */
function pinningFindings(wf: Workflow): Finding[] {
  const uses = [...wf.jobs.values()].flatMap((job) => [
    ...(job.uses ? [{ at: `jobs.${job.name}.uses`, ref: job.uses }] : []),
    ...job.steps.flatMap((s) => (s.uses ? [{ at: `${s.at}.uses`, ref: s.uses }] : [])),
  ]);
  const pinned = (ref: string): boolean =>
    ref.startsWith('./') || (ref.startsWith('docker://') ? /@sha256:[0-9a-f]{64}$/.test(ref) : /@[0-9a-f]{40}$/.test(ref));
  return uses.filter((u) => !pinned(u.ref)).map((u) => ({ rule: 'pinning', file: wf.file, ...u, message: 'not pinned to a full commit sha' }));
}

/** Every finding over a set of workflows that may call each other, and this repository's action. */
export function checkWorkflows(workflows: readonly Workflow[], action: ActionMeta): Finding[] {
  const world: World = { workflows: new Map(workflows.map((wf) => [wf.file, wf])), action };
  return workflows.flatMap((wf) => [
    ...referenceFindings(wf, world),
    ...callOutputFindings(wf),
    ...[...wf.jobs.values()].flatMap((job) => [...actionCallFindings(wf, job, world), ...workflowCallFindings(wf, job, world)]),
    ...pinningFindings(wf),
  ]);
}

export function describeFinding(f: Finding): string {
  return `${f.file} ${f.at}: ${f.ref}: ${f.message}`;
}
