// The one place a set of policy options becomes the list of checks verify runs.
import type { StatementCheck } from '../verify/index.ts';
import { builderIdCheck, denyCheck, maxAgeCheck, namespaceCheck, sourceRefCheck, sourceRepoCheck } from './checks.ts';
import type { PolicyRules } from './rules.ts';

/** The rules, and the clock for maxAge (tests pin it). requireModelSignature is the caller's to enforce. */
export interface PolicyOptions extends PolicyRules {
  readonly now?: () => Date;
}

export function policyChecks(options: PolicyOptions): StatementCheck[] {
  const checks: StatementCheck[] = [];
  if (options.builderId !== undefined) checks.push(builderIdCheck(options.builderId));
  if (options.sourceRepo !== undefined) checks.push(sourceRepoCheck(options.sourceRepo));
  if (options.sourceRef !== undefined) checks.push(sourceRefCheck(options.sourceRef, options.sourceRepo));
  if (options.namespace !== undefined) checks.push(namespaceCheck(options.namespace));
  if (options.maxAgeMs !== undefined) checks.push(maxAgeCheck(options.maxAgeMs, options.now ?? (() => new Date())));
  for (const rule of options.deny ?? []) checks.push(denyCheck(rule));
  return checks;
}
