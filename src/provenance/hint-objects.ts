// Object type hints: *ARTIFACT_OUTPUTS {uri, digest, isBuildArtifact} and *ARTIFACT_INPUTS {uri, digest}.
// Chains reads these from object results whose values are strings; isBuildArtifact is the string
// "true" (anything else means "not a build artifact" to Chains, so we refuse values it would misread).
import { parseDigest } from './digest-syntax.ts';
import type { DigestAlgorithm, HintDigest } from './digest-syntax.ts';
import { isRecord } from './json.ts';
import { hintError } from './results.ts';
import type { RunResult } from './results.ts';
import { inputUriProblem, isDirectoryUri, outputUriProblem } from './uri-syntax.ts';

/** A model or input artifact the training Task reported about itself (tenant-reported). */
export interface ArtifactHint<A extends DigestAlgorithm = 'sha256'> {
  resultName: string;
  /** The step whose results held the hint; absent for task-level results. */
  step?: string;
  uri: string;
  digest?: HintDigest<A>;
  /** True when the Task marks the output as the build's product (a subject candidate). */
  isBuildArtifact: boolean;
  /** The URI ends in '/': a directory model (every object under the prefix). */
  directory: boolean;
  /** Which run reported it, in a PipelineRun (e.g. `pipeline task train (TaskRun pr-train)`). */
  origin?: string;
}

export function readOutputObject(result: RunResult, schemes: readonly string[]): ArtifactHint {
  const fields = stringFields(result);
  const uri = requireUri(result, fields.uri);
  const problem = outputUriProblem(uri, schemes);
  if (problem) throw hintError('BAD_URI', result, problem);
  const hint = baseHint(result, uri, readIsBuildArtifact(result, fields.isBuildArtifact));
  const digest = readDigest(result, fields.digest);
  if (digest === undefined) return hint;
  if (digest.algorithm !== 'sha256') {
    throw hintError('BAD_DIGEST', result, `an output digest must be sha256, not ${digest.algorithm}`);
  }
  return { ...hint, digest: { algorithm: 'sha256', hex: digest.hex } };
}

export function readInputObject(result: RunResult): ArtifactHint<DigestAlgorithm> {
  const fields = stringFields(result);
  const uri = requireUri(result, fields.uri);
  const problem = inputUriProblem(uri);
  if (problem) throw hintError('BAD_URI', result, problem);
  const digest = readDigest(result, fields.digest);
  const hint = baseHint(result, uri, false);
  return digest === undefined ? hint : { ...hint, digest };
}

function baseHint(result: RunResult, uri: string, isBuildArtifact: boolean): ArtifactHint<never> {
  const hint: ArtifactHint<never> = { resultName: result.name, uri, isBuildArtifact, directory: isDirectoryUri(uri) };
  if (result.step !== undefined) hint.step = result.step;
  return hint;
}

interface HintFields {
  uri?: string;
  digest?: string;
  isBuildArtifact?: string;
}

function stringFields(result: RunResult): HintFields {
  if (!isRecord(result.value)) {
    throw hintError('BAD_SHAPE', result, 'must be an object result with keys uri and digest');
  }
  const fields: HintFields = {};
  for (const key of ['uri', 'digest', 'isBuildArtifact'] as const) {
    const value = result.value[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw hintError('BAD_SHAPE', result, `field ${key} must be a string`);
    fields[key] = value;
  }
  return fields;
}

function requireUri(result: RunResult, uri: string | undefined): string {
  if (uri === undefined || uri.trim() === '') throw hintError('MISSING_URI', result, 'has no uri');
  return uri;
}

/** An absent or empty digest is allowed: the operator measures outputs itself. */
function readDigest(result: RunResult, text: string | undefined): HintDigest | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const parsed = parseDigest(text);
  if (!parsed.ok) throw hintError('BAD_DIGEST', result, parsed.reason);
  return parsed.digest;
}

function readIsBuildArtifact(result: RunResult, text: string | undefined): boolean {
  if (text === undefined || text === '' || text === 'false') return false;
  if (text === 'true') return true;
  throw hintError('BAD_SHAPE', result, `isBuildArtifact must be "true" or "false", not ${JSON.stringify(text)}`);
}
