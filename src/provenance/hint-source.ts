// Source type hints CHAINS-GIT_URL + CHAINS-GIT_COMMIT. Like Chains, each is read from the Task's
// param defaults, then the TaskRun's params, then results (later wins); unlike Chains, step results
// count too, a half pair is an error, and the commit must be a full commit id, not a branch or tag.
import { HINT } from './constants.ts';
import { HintError } from './errors.ts';
import { arrayField, isRecord, recordField, stringField } from './json.ts';
import type { TaskRun } from './kube.ts';
import { hintError } from './results.ts';
import type { RunResult } from './results.ts';
import { hasUnsafeChar } from './uri-syntax.ts';

export interface SourceHint {
  url: string;
  /** Lowercase hex: 40 characters (SHA-1 repository) or 64 (SHA-256 repository). */
  commit: string;
}

interface Found {
  value: string;
  from: string;
  step?: string;
}

export function readSourceHint(taskRun: TaskRun, results: RunResult[]): SourceHint | undefined {
  const url = lookup(taskRun, results, HINT.gitUrl);
  const commit = lookup(taskRun, results, HINT.gitCommit);
  if (url === undefined && commit === undefined) return undefined;
  if (url === undefined) throw sourceError('MISSING_URI', HINT.gitCommit, commit, `has no matching ${HINT.gitUrl}`);
  if (commit === undefined) throw sourceError('MISSING_DIGEST', HINT.gitUrl, url, `has no matching ${HINT.gitCommit}`);
  if (hasUnsafeChar(url.value)) {
    throw sourceError('BAD_URI', HINT.gitUrl, url, 'URL contains whitespace or control characters');
  }
  if (!/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(commit.value)) {
    const reason = `${JSON.stringify(commit.value)} is not a full commit id (40 or 64 hex characters)`;
    throw sourceError('BAD_DIGEST', HINT.gitCommit, commit, reason);
  }
  return { url: url.value, commit: commit.value.toLowerCase() };
}

function lookup(taskRun: TaskRun, results: RunResult[], name: string): Found | undefined {
  return fromResults(results, name) ?? fromParams(taskRun, name);
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
