// A policy's verdict over a statement that is already known to be genuine and to describe the
// model: what the operator decides for the provenance it has just signed, from its own
// measurement, and records in a verification summary. The checks are verify's own (policyChecks),
// so a summary and `slsa-ml verify --policy` judge a statement alike.
import type { Check, CheckOutcome, InTotoStatement, StatementCheck } from '../verify/index.ts';
import { failed, passed } from '../verify/index.ts';
import { policyChecks } from './policy.ts';
import type { PolicyRules } from './rules.ts';

export interface PolicyContext {
  /** A model signature by the same signer sits beside the model (require-model-signature). */
  readonly modelSignature: boolean;
  /** The clock for max-age. */
  readonly now: () => Date;
}

export interface PolicyVerdict {
  readonly passed: boolean;
  readonly checks: ReadonlyArray<Check>;
}

export async function evaluatePolicy(statement: InTotoStatement, rules: PolicyRules, context: PolicyContext): Promise<PolicyVerdict> {
  const checks: StatementCheck[] = [...policyChecks({ ...rules, now: context.now })];
  if (rules.requireModelSignature === true) checks.push(modelSignatureCheck(context.modelSignature));
  const results: Check[] = [];
  for (const check of checks) results.push({ name: check.name, ...(await outcomeOf(check, statement)) });
  return { passed: results.every((c) => c.ok), checks: results };
}

function modelSignatureCheck(present: boolean): StatementCheck {
  return {
    name: 'modelSignature',
    evaluate: () => (present ? passed('a model signature by the same signer is stored') : failed('MODEL_SIGNATURE_NOT_FOUND', 'no model signature by the same signer beside the model')),
  };
}

async function outcomeOf(check: StatementCheck, statement: InTotoStatement): Promise<CheckOutcome> {
  try {
    return await check.evaluate(statement);
  } catch (err) {
    return failed('CHECK_ERROR', `check ${check.name} failed to run: ${(err as Error).message}`);
  }
}
