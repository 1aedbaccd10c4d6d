// Verifies a keyless bundle: the certificate chains to a Fulcio CA of the caller's trusted root,
// carries the expected identity (SAN) and OIDC issuer, and Rekor witnessed the signature.
import type { Bundle } from '@sigstore/bundle';
import type { TrustMaterial } from '@sigstore/verify';

import type { ProvenanceDocument } from './document.ts';
import { certificateNames } from './ci-certificate.ts';
import { githubCertificateFields, type GithubCertificateFields } from './github-certificate.ts';
import { gitlabCertificateFields, projectPathOf, type GitlabCertificateFields } from './gitlab-certificate.ts';
import { failed, passed, type CheckOutcome } from './result.ts';
import type { SignatureVerdict, SignatureVerifier } from './signature-verifier.ts';
import { isOutcome, readBundle, verifyBundle } from './sigstore-verify.ts';
import { trustMaterialFromJson } from './trusted-root.ts';

export interface IdentityPolicy {
  /** The certificate's subject alternative name: a string must match exactly, a RegExp is tested as given. */
  readonly certificateIdentity: string | RegExp;
  readonly oidcIssuer: string;
  /** trusted_root.json contents (string or parsed). */
  readonly trustedRoot: string | object;
  /** The identity in words (e.g. "GitLab project acme/models at refs/heads/main"), for a mismatch's reason. */
  readonly description?: string;
  /**
   * Accept a certificate Fulcio issued to a GitLab merge-request pipeline. Off by default: such a
   * pipeline runs the merge request's source branch (a fork's too) under the target project's
   * identity, with a ref of the source branch's name, so it can look like the pinned branch.
   */
  readonly allowMergeRequestPipelines?: boolean;
}

/** GitLab's pipeline_source (Fulcio's Build Trigger) for merge-request pipelines. */
export const MERGE_REQUEST_TRIGGER = 'merge_request_event';

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
    if (isOutcome(signer)) return Promise.resolve({ outcome: explained(signer, bundle, this.#policy.description) });
    return Promise.resolve(this.#verdict(bundle, { subjectAlternativeName: signer.identity?.subjectAlternativeName, issuer: signer.identity?.extensions?.issuer }));
  }

  #verdict(bundle: Bundle, identity: { subjectAlternativeName: string | undefined; issuer: string | undefined }): SignatureVerdict {
    const fields = ciFields(bundle, identity.issuer);
    if (fields.gitlab?.buildTrigger === MERGE_REQUEST_TRIGGER && this.#policy.allowMergeRequestPipelines !== true) {
      return { outcome: mergeRequestRefused(fields.gitlab) };
    }
    return {
      outcome: passed(`signed by ${identity.subjectAlternativeName ?? '?'} (issuer ${identity.issuer ?? '?'})`),
      signer: { kind: 'certificate', ...identity, ...fields },
    };
  }
}

// What a CI provider's certificate says about its run, under the provider's name.
function ciFields(bundle: Bundle, issuer: string | undefined): { github?: GithubCertificateFields; gitlab?: GitlabCertificateFields } {
  const github = githubCertificateFields(bundle, issuer);
  const gitlab = gitlabCertificateFields(bundle, issuer);
  return { ...(github ? { github } : {}), ...(gitlab ? { gitlab } : {}) };
}

// The signer identity names a ref, but a merge-request pipeline's ref is the source branch's name,
// which a fork may call main: the identity would then be the protected branch's.
function mergeRequestRefused(gitlab: GitlabCertificateFields): CheckOutcome {
  const job = `GitLab project ${projectPathOf(gitlab.sourceRepositoryURI) ?? '?'} at ${gitlab.sourceRepositoryRef ?? '?'}, job ${gitlab.runInvocationURI ?? '?'}`;
  return failed('MERGE_REQUEST_PIPELINE', `the certificate was issued to a merge-request pipeline (${job}): it runs the merge request's source branch, possibly a fork's, under this project's identity; pass --gitlab-allow-merge-request-pipelines to accept it`);
}

// Whom the certificate names, so that a person sees at once which project, ref or workflow signed
// instead. Read from the certificate that failed: it explains the failure and decides nothing.
function explained(outcome: CheckOutcome, bundle: Bundle, description: string | undefined): CheckOutcome {
  if (outcome.ok || outcome.code !== 'IDENTITY_MISMATCH') return outcome;
  const names = certificateNames(bundle);
  const gitlab = gitlabCertificateFields(bundle, names.issuer);
  const job = gitlab ? `: GitLab project ${projectPathOf(gitlab.sourceRepositoryURI) ?? '?'} at ${gitlab.sourceRepositoryRef ?? '?'}, ${gitlab.runnerEnvironment ?? 'unknown'} runner` : '';
  const wanted = description === undefined ? '' : `, not ${description}`;
  return failed(outcome.code, `${outcome.reason}; the certificate was issued to ${names.subjectAlternativeName ?? '?'} (issuer ${names.issuer ?? '?'})${job}${wanted}`);
}

// @sigstore/verify treats a string identity as an unanchored regular expression
// (`a.b@x` would accept `xa1b@x.evil`); a string here means exact equality.
function exactly(identity: string | RegExp): RegExp {
  return typeof identity === 'string' ? new RegExp(`^${identity.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) : identity;
}
