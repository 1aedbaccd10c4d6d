// Checks over a verified statement. Policy (builder id, source, denied frameworks) plugs in
// as more of these, each under its own name.
import type { ModelDigest } from '../digest/index.ts';
import { failed, passed, type CheckOutcome } from './result.ts';
import type { InTotoStatement } from './statement.ts';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
// cosign attest-blob (v2.6) still writes the v0.1 type; its layout (subject, predicateType,
// predicate) is the one v1 kept, so what cosign signs verifies too.
const STATEMENT_TYPE_V01 = 'https://in-toto.io/Statement/v0.1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

export interface StatementCheck {
  readonly name: string;
  evaluate(statement: InTotoStatement): CheckOutcome | Promise<CheckOutcome>;
}

/** What verify needs from a measured artifact: a ModelDigest from digestLocalPath / digestStorage. */
export type ArtifactDigest = Pick<ModelDigest, 'sha256'>;

export type ArtifactSource = ArtifactDigest | (() => Promise<ArtifactDigest>);

export const statementTypeCheck: StatementCheck = {
  name: 'statementType',
  evaluate: (s) => {
    if (s._type === STATEMENT_TYPE) return passed();
    if (s._type === STATEMENT_TYPE_V01) return passed('in-toto Statement v0.1 (as cosign attest-blob writes it)');
    return failed('STATEMENT_TYPE', `_type is ${JSON.stringify(s._type)}, want ${STATEMENT_TYPE}`);
  },
};

export const predicateTypeCheck: StatementCheck = {
  name: 'predicateType',
  evaluate: (s) =>
    s.predicateType === SLSA_PROVENANCE_V1
      ? passed()
      : failed('PREDICATE_TYPE', `predicateType is ${JSON.stringify(s.predicateType)}, want ${SLSA_PROVENANCE_V1}`),
};

/** The artifact is measured only here, after the signature verified: hashing a large model for a forged file is wasted work. */
export function subjectCheck(artifact: ArtifactSource): StatementCheck {
  return {
    name: 'subject',
    async evaluate(statement) {
      let measured: ArtifactDigest;
      try {
        measured = typeof artifact === 'function' ? await artifact() : artifact;
      } catch (err) {
        return failed('DIGEST_UNAVAILABLE', `could not measure the artifact: ${(err as Error).message}`);
      }
      const want = measured.sha256.toLowerCase();
      const match = statement.subject.find((s) => s.digest.sha256?.toLowerCase() === want);
      return match
        ? passed(`sha256:${want} is subject ${JSON.stringify(match.name)}`)
        : failed('SUBJECT_MISMATCH', `no subject has sha256:${want} (subjects: ${statement.subject.map((s) => s.name).join(', ') || 'none'})`);
    },
  };
}
