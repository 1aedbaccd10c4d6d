// Builds a verification summary: an in-toto Statement whose subject is the model (its URI and the
// digest its provenance's subject carries) and whose predicate says who verified it, when, against
// which policy (by digest) and which provenance (by digest of the bundle's bytes), and the result.
// Serialized canonically, as provenance is: the same summary, the same bytes.
import { canonicalJson, type JsonObject } from '../provenance/index.ts';
import { SLSA_VERSION, STATEMENT_TYPE_V1, VSA_PREDICATE_TYPE, type VerificationResultValue } from './constants.ts';

export interface SummaryInput {
  /** verifier.id: who verified (the operator installation, in its verifier role). */
  readonly verifierId: string;
  readonly verifierVersion: Readonly<Record<string, string>>;
  readonly timeVerified: Date;
  /** The model's URI: the subject's name and the resourceUri. */
  readonly modelUri: string;
  /** The model's digest, as its provenance's subject carries it (a directory: the root digest). */
  readonly sha256: string;
  readonly policy: { readonly uri: string; readonly digest: string };
  /** The provenance bundle that was verified, and the SHA-256 of its bytes. */
  readonly provenance: { readonly uri: string; readonly sha256: string };
  readonly passed: boolean;
  /** verifiedLevels when the policy passed (none when it failed). */
  readonly levels: readonly string[];
}

export function buildSummary(input: SummaryInput): JsonObject {
  const result: VerificationResultValue = input.passed ? 'PASSED' : 'FAILED';
  return {
    _type: STATEMENT_TYPE_V1,
    subject: [{ name: input.modelUri, digest: { sha256: input.sha256 } }],
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: input.verifierId, version: { ...input.verifierVersion } },
      timeVerified: input.timeVerified.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      resourceUri: input.modelUri,
      policy: { uri: input.policy.uri, digest: { sha256: input.policy.digest } },
      inputAttestations: [{ uri: input.provenance.uri, digest: { sha256: input.provenance.sha256 } }],
      verificationResult: result,
      verifiedLevels: input.passed ? [...input.levels] : [],
      slsaVersion: SLSA_VERSION,
    },
  };
}

export function serializeSummary(statement: JsonObject): Buffer {
  return Buffer.from(canonicalJson(statement), 'utf8');
}
