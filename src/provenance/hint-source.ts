// Source type hints CHAINS-GIT_URL + CHAINS-GIT_COMMIT, one pair per scope as Chains (v2alpha4)
// reads them: the task scope (the Task's param defaults, then the TaskRun's params, then task
// results; later wins) and each step's own results (StepActions). Every scope's pair is a source,
// so a code repository and a config repository are both recorded; a pair reported again in another
// scope is one source. Unlike Chains, a half pair is an error (a URL in one step and a commit in
// another are two halves, never fused), and the commit must be a full commit id.
import { HINT } from './constants.ts';
import { HintError } from './errors.ts';
import { arrayField, isRecord, recordField, stringField } from './json.ts';
import type { TaskRun } from './kube.ts';
import { hintError } from './results.ts';
import type { ResultScope, RunResult } from './results.ts';
import { hasUnsafeChar } from './uri-syntax.ts';

export interface SourceHint {
  url: string;
  /** Lowercase hex: 40 characters (SHA-1 repository) or 64 (SHA-256 repository). */
  commit: string;
  /** The step whose results reported it; absent for the task scope. */
  step?: string;
}

interface Found {
  value: string;
  from: string;
  step?: string;
}

export function readSourceHints(taskRun: TaskRun, scopes: readonly ResultScope[]): SourceHint[] {
  const sources: SourceHint[] = [];
  for (const scope of scopes) {
    const source = scope.step === undefined ? taskScopeSource(taskRun, scope.results) : pairOf(fromResults(scope.results, HINT.gitUrl), fromResults(scope.results, HINT.gitCommit));
    if (source && !sources.some((s) => s.url === source.url && s.commit === source.commit)) sources.push(source);
  }
  return sources;
}

function taskScopeSource(taskRun: TaskRun, results: RunResult[]): SourceHint | undefined {
  const lookup = (name: string): Found | undefined => fromResults(results, name) ?? fromParams(taskRun, name);
  return pairOf(lookup(HINT.gitUrl), lookup(HINT.gitCommit));
}

function pairOf(url: Found | undefined, commit: Found | undefined): SourceHint | undefined {
  if (url === undefined && commit === undefined) return undefined;
  if (url === undefined) throw sourceError('MISSING_URI', HINT.gitCommit, commit, `has no matching ${HINT.gitUrl} in the same ${scopeName(commit)}`);
  if (commit === undefined) throw sourceError('MISSING_DIGEST', HINT.gitUrl, url, `has no matching ${HINT.gitCommit} in the same ${scopeName(url)}`);
  if (hasUnsafeChar(url.value)) {
    throw sourceError('BAD_URI', HINT.gitUrl, url, 'URL contains whitespace or control characters');
  }
  if (!/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(commit.value)) {
    const reason = `${JSON.stringify(commit.value)} is not a full commit id (40 or 64 hex characters)`;
    throw sourceError('BAD_DIGEST', HINT.gitCommit, commit, reason);
  }
  const source: SourceHint = { url: url.value, commit: commit.value.toLowerCase() };
  if (url.step !== undefined) source.step = url.step;
  return source;
}

function scopeName(found: Found | undefined): string {
  return found?.step === undefined ? 'task (params and task results)' : 'step';
}

function fromResults(results: RunResult[], name: string): Found | undefined {
  let found: Found | undefined;
  for (const result of results.filter((r) => r.name === name)) {
    if (typeof result.value !== 'string') throw hintError('BAD_SHAPE', result, 'must be a string result');
    const value = result.value.trim();
    if (value === '') continue;
    if (found !== undefined && found.value !== value) {
      throw hintError('CONFLICT', result, `reported as ${JSON.stringify(found.value)} and ${JSON.stringify(value)}`);
    }
    found = result.step === undefined ? { value, from: 'result' } : { value, from: 'result', step: result.step };
  }
  return found;
}

function fromParams(taskRun: TaskRun, name: string): Found | undefined {
  const spec = findParam(arrayField(taskRun.spec, 'params'), name, 'value', 'param');
  const defaults = arrayField(recordField(taskRun.status, 'taskSpec'), 'params');
  return spec ?? findParam(defaults, name, 'default', 'param default');
}

function findParam(params: unknown[], name: string, key: string, from: string): Found | undefined {
  const param = params.find((p) => stringField(p, 'name') === name);
  const value: unknown = isRecord(param) ? param[key] : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HintError('BAD_SHAPE', name, `${from} must be a string`);
  return value.trim() === '' ? undefined : { value: value.trim(), from };
}

function sourceError(code: 'MISSING_URI' | 'MISSING_DIGEST' | 'BAD_URI' | 'BAD_DIGEST', name: string, found: Found | undefined, reason: string): HintError {
  const origin = found === undefined ? '' : ` (from ${found.from})`;
  return new HintError(code, name, `${reason}${origin}`, { step: found?.step });
}
