// The optional inputs in which the caller's training job reports what it used. They are
// recorded as tenant-reported facts; the checks here only keep them well-formed and small.
import type { ReportedTraining } from '../provenance/index.ts';
import { ActionError } from './errors.ts';

const PURL = /^pkg:[a-z][a-z0-9.+-]*\/\S+$/;
const SHA256 = /^sha256:([0-9a-f]{64})$/;
const MAX_FRAMEWORKS = 500;
const MAX_RUNNER_KEYS = 32;
const MAX_VALUE = 1024;

export interface ReportedInputs {
  readonly frameworks: string;
  readonly dataset: string;
  readonly trainingRunner: string;
}

export function parseReported(inputs: ReportedInputs): ReportedTraining {
  const dataset = inputs.dataset === '' ? undefined : parseDataset(inputs.dataset);
  const runner = inputs.trainingRunner === '' ? undefined : parseRunner(inputs.trainingRunner);
  return { frameworks: parseFrameworks(inputs.frameworks), ...(dataset ? { dataset } : {}), ...(runner ? { runner } : {}) };
}

function parseFrameworks(text: string): string[] {
  if (text === '') return [];
  const list = json('frameworks', text, 'a JSON array of package URLs, e.g. ["pkg:pypi/torch@2.10.0"]');
  if (!Array.isArray(list)) throw bad('frameworks', 'must be a JSON array of package URLs');
  if (list.length > MAX_FRAMEWORKS) throw bad('frameworks', `lists ${list.length} packages; at most ${MAX_FRAMEWORKS}`);
  return list.map((purl: unknown, i) => {
    if (typeof purl !== 'string' || !PURL.test(purl) || purl.length > MAX_VALUE) throw bad('frameworks', `[${i}] is not a package URL: ${JSON.stringify(purl)}`);
    return purl;
  });
}

function parseDataset(text: string): { uri: string; sha256: string } {
  const value = json('dataset', text, 'a JSON object {"uri": "...", "digest": "sha256:<hex>"}');
  const { uri, digest } = (value ?? {}) as { uri?: unknown; digest?: unknown };
  if (typeof uri !== 'string' || uri === '' || uri.length > MAX_VALUE) throw bad('dataset', 'uri must be a non-empty string');
  const match = typeof digest === 'string' ? SHA256.exec(digest) : null;
  if (!match) throw bad('dataset', `digest must be "sha256:<64 lowercase hex>", got ${JSON.stringify(digest)}`);
  return { uri, sha256: match[1] as string };
}

function parseRunner(text: string): Record<string, string> {
  const value = json('training-runner', text, 'a JSON object of strings, e.g. {"os": "Linux", "arch": "X64"}');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('training-runner', 'must be a JSON object of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_RUNNER_KEYS) throw bad('training-runner', `has ${entries.length} keys; at most ${MAX_RUNNER_KEYS}`);
  const runner: Record<string, string> = {};
  for (const [key, v] of entries) {
    if (typeof v !== 'string' || v.length > MAX_VALUE) throw bad('training-runner', `${key} must be a string of at most ${MAX_VALUE} characters`);
    runner[key] = v;
  }
  return runner;
}

function json(field: string, text: string, expected: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw bad(field, `is not JSON; expected ${expected}`);
  }
}

function bad(field: string, reason: string): ActionError {
  return new ActionError('BAD_INPUT', `${field}: ${reason}`);
}
