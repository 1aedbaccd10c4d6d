// The one place a set of policy options becomes the list of checks verify runs.
import type { StatementCheck } from '../verify/index.ts';
import { builderIdCheck, denyCheck, maxAgeCheck, namespaceCheck, sourceRefCheck, sourceRepoCheck } from './checks.ts';
import type { DependencyRule } from './dependency-rule.ts';

export interface PolicyOptions {
  readonly builderId?: string;
  readonly sourceRepo?: string;
  readonly sourceRef?: string;
  readonly namespace?: string;
  readonly maxAgeMs?: number;
  readonly deny?: ReadonlyArray<DependencyRule>;
  /** The clock for maxAge (tests pin it). */
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
