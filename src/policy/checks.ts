// Policy checks over a verified statement, each a named StatementCheck that src/verify runs
// after the signature and subject checks. Every failure says what was found and what was wanted.
import { failed, passed, type CheckOutcome, type InTotoStatement, type StatementCheck } from '../verify/index.ts';
import { matchDependencies, type DependencyRule } from './dependency-rule.ts';
import { formatDuration } from './duration.ts';
import { sameRepository } from './source-repo.ts';
import { statementFacts, type Source, type StatementFacts } from './statement-facts.ts';

// Clocks of the verifier and the cluster differ a little; a finish time this far ahead is still "now".
const CLOCK_SKEW_MS = 5 * 60_000;

function check(name: string, evaluate: (facts: StatementFacts) => CheckOutcome): StatementCheck {
  return { name, evaluate: (statement: InTotoStatement) => evaluate(statementFacts(statement)) };
}

export function builderIdCheck(want: string): StatementCheck {
  return check('builderId', ({ builderId }) => {
    if (builderId === undefined) return failed('BUILDER_MISSING', 'provenance names no builder (runDetails.builder.id)');
    return builderId === want ? passed(builderId) : failed('BUILDER_MISMATCH', `built by ${builderId}, want ${want}`);
  });
}

/** Passes when any recorded source is the repository (a run may record a code and a config repository). */
export function sourceRepoCheck(want: string): StatementCheck {
  return check('sourceRepo', ({ sources }) => {
    if (sources.length === 0) return failed('SOURCE_MISSING', 'provenance records no source repository');
    const match = sources.find((s) => sameRepository(s.repository, want));
    return match ? passed(match.uri) : failed('SOURCE_MISMATCH', `trained from ${sources.map((s) => s.uri).join(', ')}, want ${want}`);
  });
}

/**
 * `want` is a full commit, or a ref (refs/heads/main, refs/tags/v1) compared with the recorded one.
 * With `repository` (--source-repo), only that repository's sources count when it has any, so a
 * config repository's commit never stands in for the code's.
 */
export function sourceRefCheck(want: string, repository?: string): StatementCheck {
  return check('sourceRef', ({ sources }) => {
    const named = repository === undefined ? [] : sources.filter((s) => sameRepository(s.repository, repository));
    // When no source is that repository, sourceRepo fails already; compare with every source then.
    const candidates = named.length > 0 ? named : sources;
    const outcomes = (candidates.length > 0 ? candidates : [undefined]).map((s) => (want.startsWith('refs/') ? refOutcome(s, want) : commitOutcome(s, want)));
    return outcomes.find((o) => o.ok) ?? outcomes[0] ?? failed('SOURCE_MISSING', 'provenance records no source');
  });
}

function refOutcome(source: Source | undefined, want: string): CheckOutcome {
  if (source === undefined) return failed('SOURCE_MISSING', 'provenance records no source repository');
  if (source.ref === undefined) return failed('SOURCE_REF_MISSING', `provenance records no source ref (source ${source.uri}), want ${want}`);
  return source.ref === want ? passed(source.ref) : failed('SOURCE_REF_MISMATCH', `trained from ref ${source.ref}, want ${want}`);
}

function commitOutcome(source: Source | undefined, want: string): CheckOutcome {
  if (source?.commit === undefined) return failed('SOURCE_MISSING', 'provenance records no source commit');
  return source.commit.toLowerCase() === want.toLowerCase()
    ? passed(source.commit)
    : failed('SOURCE_REF_MISMATCH', `trained from commit ${source.commit}, want ${want}`);
}

export function namespaceCheck(want: string): StatementCheck {
  return check('namespace', ({ taskRun, runKind }) => {
    const run = runKind ?? 'TaskRun';
    if (taskRun.namespace === undefined) return failed('NAMESPACE_MISSING', `provenance names no ${run} namespace`);
    return taskRun.namespace === want ? passed(want) : failed('NAMESPACE_MISMATCH', `${run} ran in namespace ${taskRun.namespace}, want ${want}`);
  });
}

export function maxAgeCheck(maxAgeMs: number, now: () => Date): StatementCheck {
  return check('maxAge', ({ finishedOn }) => {
    if (finishedOn === undefined) return failed('FINISH_TIME_MISSING', 'provenance has no runDetails.metadata.finishedOn');
    const finished = Date.parse(finishedOn);
    if (Number.isNaN(finished)) return failed('FINISH_TIME_INVALID', `finishedOn ${JSON.stringify(finishedOn)} is not a timestamp`);
    const age = now().getTime() - finished;
    if (age < -CLOCK_SKEW_MS) return failed('FINISH_TIME_IN_FUTURE', `finished ${finishedOn}, ${formatDuration(age)} in the future`);
    return age <= maxAgeMs
      ? passed(`finished ${finishedOn} (${formatDuration(Math.max(age, 0))} ago)`)
      : failed('TOO_OLD', `finished ${finishedOn}, ${formatDuration(age)} ago; the limit is ${formatDuration(maxAgeMs)}`);
  });
}

/** Fails when a dependency matches the rule, and also when a named package's version cannot be compared. */
export function denyCheck(rule: DependencyRule): StatementCheck {
  return check(`deny ${rule.text}`, ({ packages, unreadableFrameworks: unreadable }) => {
    const matches = matchDependencies(rule, packages);
    const denied = matches.filter((m) => m.kind === 'match').map((m) => m.purl);
    if (denied.length > 0) return failed('DENIED_DEPENDENCY', `trained with ${denied.join(', ')}`);
    const unknown = matches.flatMap((m) => (m.kind === 'undecidable' ? [m.reason] : []));
    if (unknown.length > 0) return failed('DEPENDENCY_UNDECIDABLE', unknown.join('; '));
    // A frameworks result the builder could not read might name the package: not a pass.
    if (unreadable.length > 0) return failed('DEPENDENCY_UNDECIDABLE', `a frameworks result could not be read (${unreadable.join('; ')})`);
    return passed(packages.length === 0 ? 'no package dependencies recorded' : 'not used');
  });
}
