// The names SLSA's Verification Summary Attestation v1 uses (https://slsa.dev/spec/v1.0/verification_summary).
export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
export const STATEMENT_TYPE_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_VERSION = '1.0';
/** The operator's provenance is SLSA Build L3 (docs/operator.md, "Who is trusted for what"). */
export const SLSA_BUILD_LEVEL_3 = 'SLSA_BUILD_LEVEL_3';

export type VerificationResultValue = 'PASSED' | 'FAILED';
