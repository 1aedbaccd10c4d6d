// Verifies a keyless bundle: the certificate chains to a Fulcio CA of the caller's trusted root,
// carries the expected identity (SAN) and OIDC issuer, and Rekor witnessed the signature.
import type { TrustMaterial } from '@sigstore/verify';

import type { ProvenanceDocument } from './document.ts';
import { githubCertificateFields } from './github-certificate.ts';
import { failed, passed } from './result.ts';
import type { SignatureVerdict, SignatureVerifier } from './signature-verifier.ts';
import { isOutcome, readBundle, verifyBundle } from './sigstore-verify.ts';
import { trustMaterialFromJson } from './trusted-root.ts';

export interface IdentityPolicy {
  /** The certificate's subject alternative name: a string must match exactly, a RegExp is tested as given. */
  readonly certificateIdentity: string | RegExp;
  readonly oidcIssuer: string;
  /** trusted_root.json contents (string or parsed). */
  readonly trustedRoot: string | object;
}

const THRESHOLDS = { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 };

export class IdentityVerifier implements SignatureVerifier {
  readonly #trust: TrustMaterial;
  readonly #policy: IdentityPolicy;

  constructor(policy: IdentityPolicy) {
    this.#trust = trustMaterialFromJson(policy.trustedRoot);
    this.#policy = policy;
  }

  verify(document: ProvenanceDocument): Promise<SignatureVerdict> {
    if (!document.bundleJson) {
      return Promise.resolve({ outcome: failed('NO_CERTIFICATE', 'a bare DSSE envelope carries no certificate: verify the .sigstore.json bundle') });
    }
    const bundle = readBundle(document.bundleJson);
    if (isOutcome(bundle)) return Promise.resolve({ outcome: bundle });
    if (bundle.verificationMaterial.content.$case === 'publicKey') {
      const hint = bundle.verificationMaterial.content.publicKey.hint;
      const which = hint ? ` (${hint})` : '';
      return Promise.resolve({ outcome: failed('SIGNED_WITH_KEY', `this bundle is signed by a key${which}, not by a certificate: verify it with --key PUBLIC_KEY or --kms`) });
    }
    const policy = { subjectAlternativeName: exactly(this.#policy.certificateIdentity), extensions: { issuer: this.#policy.oidcIssuer } };
    const signer = verifyBundle(bundle, { trust: this.#trust, options: THRESHOLDS, policy });
    if (isOutcome(signer)) return Promise.resolve({ outcome: signer });
    const identity = { subjectAlternativeName: signer.identity?.subjectAlternativeName, issuer: signer.identity?.extensions?.issuer };
    const github = githubCertificateFields(bundle, identity.issuer);
    return Promise.resolve({
      outcome: passed(`signed by ${identity.subjectAlternativeName ?? '?'} (issuer ${identity.issuer ?? '?'})`),
      signer: { kind: 'certificate', ...identity, ...(github ? { github } : {}) },
    });
  }
}

// @sigstore/verify treats a string identity as an unanchored regular expression
// (`a.b@x` would accept `xa1b@x.evil`); a string here means exact equality.
function exactly(identity: string | RegExp): RegExp {
  return typeof identity === 'string' ? new RegExp(`^${identity.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) : identity;
}
