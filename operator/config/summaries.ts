// verificationSummaries: which policy files the operator signs summaries for, read when the
// configuration is loaded. Their contents are part of the configuration, so an edited policy in
// the mounted ConfigMap reloads like any other change; parsing them (the deny rules' semver and
// PEP 440 code) is left to the wiring, and so costs nothing while no policy is configured.
import { readFileSync, statSync } from 'node:fs';
import { absolutePath, absoluteUri } from './checks.ts';
import type { Fields } from './fields.ts';
import type { VerificationSummarySettings } from './types.ts';

const MAX_POLICY_BYTES = 1024 * 1024;

export function buildVerificationSummaries(f: Fields): VerificationSummarySettings {
  const policyPaths = f.list('verificationSummaries.policyPaths', absolutePath);
  const verifierId = f.optionalString('verificationSummaries.verifierId', absoluteUri);
  const policyTexts = policyPaths.map((path, i) => readPolicy(f, path, i));
  return { policyPaths, policyTexts, ...(verifierId === undefined ? {} : { verifierId }) };
}

function readPolicy(f: Fields, path: string, i: number): string {
  const field = 'verificationSummaries.policyPaths';
  let text: string | undefined;
  try {
    text = statSync(path).size > MAX_POLICY_BYTES ? undefined : readFileSync(path, 'utf8');
  } catch (err) {
    return f.fail(field, `item ${i} ${path}: cannot read the policy file: ${(err as Error).message}`);
  }
  return text ?? f.fail(field, `item ${i} ${path}: larger than ${MAX_POLICY_BYTES} bytes`);
}
