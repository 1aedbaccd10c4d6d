// Where a verification summary (SLSA VSA) lives: beside the model and its provenance, one per
// policy, named by the first 16 hex digits of the policy's digest —
// `<model>.vsa-<digest16>.sigstore.json` (`saved_model.vsa-….sigstore.json` for a directory
// `saved_model/`, outside the prefix). A changed policy gets a new name, so a summary is never
// overwritten, and a verifier holding the policy file knows which name to read.
import { BUNDLE_SUFFIX, provenanceLocations } from './locations.ts';

const SUMMARY_NAME = /\.vsa-[0-9a-f]{16}\.sigstore\.json$/;

export function summaryLocation(modelUri: string, policyDigest: string): string {
  return provenanceLocations(modelUri).bundle.slice(0, -BUNDLE_SUFFIX.length) + summarySuffix(policyDigest);
}

/** `.vsa-<digest16>.sigstore.json`: what follows the model's name. */
export function summarySuffix(policyDigest: string): string {
  if (!/^[0-9a-f]{64}$/.test(policyDigest)) throw new Error(`policy digest ${JSON.stringify(policyDigest)} is not 64 lower-case hex digits`);
  return `.vsa-${policyDigest.slice(0, 16)}${BUNDLE_SUFFIX}`;
}

/** True for a summary's name: a `.sigstore.json` that is not provenance (query skips it). */
export function isSummaryName(uri: string): boolean {
  return SUMMARY_NAME.test(uri);
}
