// String-pair type hints: <prefix>ARTIFACT_URI + <prefix>ARTIFACT_DIGEST. As in Chains, the two pair
// up when the result names are equal after removing the suffixes (the prefix may be empty), within
// one set of results (the task's, or one step's), and values are trimmed; an empty value counts as
// absent. Chains drops a half pair silently; we refuse it, because a typo in one prefix would
// otherwise lose the model.
import { HINT } from './constants.ts';
import { parseDigest } from './digest-syntax.ts';
import type { ArtifactHint } from './hint-objects.ts';
import { hintError } from './results.ts';
import type { ResultScope, RunResult } from './results.ts';
import { isDirectoryUri, outputUriProblem } from './uri-syntax.ts';

interface Half {
  result: RunResult;
  value: string;
}

interface Pair {
  uri?: Half;
  digest?: Half;
}

export function readPairHints(scope: ResultScope, schemes: readonly string[]): ArtifactHint[] {
  const pairs = new Map<string, Pair>();
  for (const result of scope.results) {
    const role = result.name.endsWith(HINT.uri) ? 'uri' : result.name.endsWith(HINT.digest) ? 'digest' : undefined;
    if (role === undefined) continue;
    if (typeof result.value !== 'string') throw hintError('BAD_SHAPE', result, 'must be a string result');
    const value = result.value.trim();
    if (value === '') continue;
    const marker = result.name.slice(0, result.name.length - (role === 'uri' ? HINT.uri : HINT.digest).length);
    const pair = pairs.get(marker) ?? {};
    const seen = pair[role];
    if (seen !== undefined && seen.value !== value) throw hintError('CONFLICT', result, 'reported twice with different values');
    pair[role] = { result, value };
    pairs.set(marker, pair);
  }
  return [...pairs.values()].map((pair) => pairHint(pair, schemes));
}

function pairHint(pair: Pair, schemes: readonly string[]): ArtifactHint {
  const { uri, digest } = pair;
  if (uri === undefined || digest === undefined) {
    // A pair exists only because one of its halves was seen, so exactly one is missing here.
    if (digest !== undefined) throw hintError('MISSING_URI', digest.result, `has no matching *${HINT.uri} result with the same prefix`);
    if (uri !== undefined) throw hintError('MISSING_DIGEST', uri.result, `has no matching *${HINT.digest} result with the same prefix`);
    throw new Error('unreachable: an empty string-pair hint');
  }
  const problem = outputUriProblem(uri.value, schemes);
  if (problem) throw hintError('BAD_URI', uri.result, problem);
  const parsed = parseDigest(digest.value);
  if (!parsed.ok) throw hintError('BAD_DIGEST', digest.result, parsed.reason);
  if (parsed.digest.algorithm !== 'sha256') {
    throw hintError('BAD_DIGEST', digest.result, `an output digest must be sha256, not ${parsed.digest.algorithm}`);
  }
  const hint: ArtifactHint = {
    resultName: uri.result.name,
    uri: uri.value,
    digest: { algorithm: 'sha256', hex: parsed.digest.hex },
    // Chains' SLSA v0.2 and v1.0-alpha formats make every string pair a subject.
    isBuildArtifact: true,
    directory: isDirectoryUri(uri.value),
  };
  if (uri.result.step !== undefined) hint.step = uri.result.step;
  return hint;
}
