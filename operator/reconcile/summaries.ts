// Verification summaries beside a model: for each configured policy, the operator judges the
// provenance of record it has just stored (written now, or verified as its own) against the policy,
// from its own measurement, and writes a signed SLSA VSA create-only as
// `<model>.vsa-<digest16>.sigstore.json`. A summary never decides the run's outcome: the provenance
// is the record. An existing object under a summary's name is adopted only if it verifies with the
// operator's own key (or keyless identity) for this model's URI and digest and this policy's digest
// (whatever result it records: the policy was judged once); anything else is left untouched and
// reported as a warning. The verification code is loaded only when a summary is configured.
import { createHash } from 'node:crypto';
import { summaryLocation } from '../../src/layout/index.ts';
import type { PolicyRules } from '../../src/policy/rules.ts';
import type { Signer } from '../../src/signing/index.ts';
import type { InTotoStatement, SignatureVerifier } from '../../src/verify/index.ts';
import { ReconcileFailure } from './failure.ts';
import { createOrRead, type Judge, type Slot, type SlotStore } from './slot-io.ts';

/** One configured policy, parsed (wiring.ts). */
export interface SummaryPolicy {
  /** The summary's policy.uri: the policy's `name`, else the file's URI. */
  readonly uri: string;
  /** Lower-case hex SHA-256 of the canonical rules. */
  readonly digest: string;
  readonly rules: PolicyRules;
}

export interface SummarySettings {
  readonly verifierId: string;
  readonly verifierVersion: Readonly<Record<string, string>>;
  /** Empty: summaries are off, and nothing is inspected or written for them. */
  readonly policies: ReadonlyArray<SummaryPolicy>;
  /** SLSA levels a PASSED summary states for the operator's provenance. */
  readonly levels: readonly string[];
}

export interface SummaryContext extends SlotStore {
  readonly signer: Signer;
  readonly ownVerifier: SignatureVerifier | undefined;
  readonly settings: SummarySettings;
}

/** The stored provenance a summary is about. */
export interface SummaryTarget {
  readonly modelUri: string;
  /** The operator's own measurement of the model. */
  readonly sha256: string;
  readonly bundleUri: string;
  /** The bundle of record's bytes: just written, or verified as ours. */
  readonly bundleJson: string;
  /** A model signature of ours is stored beside the model (require-model-signature). */
  readonly modelSignature: boolean;
  readonly now: Date;
}

/** The summary names of a model with their judges, inspected with the provenance names (one request on GCS). */
export function summarySlots(ctx: Pick<SummaryContext, 'ownVerifier' | 'settings'>, modelUri: string, sha256: string): Array<{ uri: string; judge: Judge }> {
  return ctx.settings.policies.map((policy) => ({ uri: summaryLocation(modelUri, policy.digest), judge: summaryJudge(ctx.ownVerifier, modelUri, sha256, policy.digest) }));
}

/** Writes a summary where a name is free; `slots` as inspected, in the order of the policies. Returns warnings. */
export async function writeSummaries(ctx: SummaryContext, slots: readonly Slot[], target: SummaryTarget): Promise<string[]> {
  const { policies } = ctx.settings;
  if (policies.length === 0) return [];
  const warnings: string[] = [];
  const statement = await storedStatement(target);
  for (const [i, policy] of policies.entries()) {
    const uri = summaryLocation(target.modelUri, policy.digest);
    const slot = slots[i] ?? { state: 'empty' };
    const stored = slot.state === 'empty' ? await writeSummary(ctx, uri, policy, statement, target) : slot;
    if (stored.state === 'foreign') warnings.push(`${uri} holds an object this operator did not write (${stored.why}); it was left untouched — the model has no verification summary of ours for policy ${policy.uri}`);
  }
  return warnings;
}

async function writeSummary(ctx: SummaryContext, uri: string, policy: SummaryPolicy, statement: InTotoStatement, target: SummaryTarget): Promise<Slot> {
  const [{ evaluatePolicy }, { buildSummary, signSummary }] = await Promise.all([import('../../src/policy/index.ts'), import('../../src/vsa/index.ts')]);
  const verdict = await evaluatePolicy(statement, policy.rules, { modelSignature: target.modelSignature, now: () => target.now });
  const summary = buildSummary({
    verifierId: ctx.settings.verifierId,
    verifierVersion: ctx.settings.verifierVersion,
    timeVerified: target.now,
    modelUri: target.modelUri,
    sha256: target.sha256,
    policy: { uri: policy.uri, digest: policy.digest },
    provenance: { uri: target.bundleUri, sha256: createHash('sha256').update(target.bundleJson, 'utf8').digest('hex') },
    passed: verdict.passed,
    levels: ctx.settings.levels,
  });
  const content = await signSummary(summary, ctx.signer);
  return createOrRead(ctx, uri, content, 'application/json', summaryJudge(ctx.ownVerifier, target.modelUri, target.sha256, policy.digest));
}

function summaryJudge(ownVerifier: SignatureVerifier | undefined, modelUri: string, sha256: string, policyDigest: string): Judge {
  return async (content) => {
    if (!ownVerifier) return { state: 'foreign', why: 'this signer has no verification identity configured, so no existing object can be shown to be ours' };
    const { policyCheck, resourceUriCheck, verifySummary } = await import('../../src/vsa/index.ts');
    const result = await verifySummary({ summary: content, trust: ownVerifier, checks: [resourceUriCheck(modelUri), policyCheck(policyDigest)], artifact: { sha256 } });
    if (result.ok) return { state: 'ours', content };
    const first = result.checks.find((c) => !c.ok);
    return { state: 'foreign', why: first ? `${first.name} check failed: ${first.code ?? ''} ${first.reason ?? ''}`.trim() : 'it does not verify' };
  };
}

/** The statement inside the bundle of record: ours, so it is read, not verified again. */
async function storedStatement(target: SummaryTarget): Promise<InTotoStatement> {
  const { isStatement, parseStatement } = await import('../../src/verify/index.ts');
  const bundle = JSON.parse(target.bundleJson) as { dsseEnvelope?: { payload?: unknown } };
  const payload = bundle.dsseEnvelope?.payload;
  const statement = typeof payload === 'string' ? parseStatement(Buffer.from(payload, 'base64')) : undefined;
  if (statement === undefined || !isStatement(statement)) throw new ReconcileFailure('INTERNAL', `the provenance stored at ${target.bundleUri} holds no statement to judge`);
  return statement;
}
