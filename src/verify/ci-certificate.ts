// The facts Fulcio writes into a keyless certificate issued to a CI job: its v2 extensions, each
// a DER UTF8String under an OID that every CI provider shares
// (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). Each provider fills them from
// its own token claims (GitHub Actions, GitLab's gitlab-pipeline, …). Read from the bundle's
// leaf certificate into our own type; only called once the certificate has verified.
import type { Bundle } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';

export interface CiCertificateFields {
  /** What signed: GitHub's job_workflow_ref, GitLab's ci_config_ref_uri (both as https:// URIs). */
  readonly buildSignerURI?: string;
  readonly buildSignerDigest?: string;
  /** github-hosted / gitlab-hosted, or self-hosted. */
  readonly runnerEnvironment?: string;
  /** The repository or project the run belongs to. */
  readonly sourceRepositoryURI?: string;
  /** The commit the run was for. */
  readonly sourceRepositoryDigest?: string;
  readonly sourceRepositoryRef?: string;
  /** Numeric ids of the repository and its owner: they survive renames, names do not. */
  readonly sourceRepositoryIdentifier?: string;
  readonly sourceRepositoryOwnerURI?: string;
  readonly sourceRepositoryOwnerIdentifier?: string;
  /** The top-level workflow or pipeline definition. */
  readonly buildConfigURI?: string;
  readonly buildConfigDigest?: string;
  /** The event that started the run (push, workflow_dispatch, web, schedule, …). */
  readonly buildTrigger?: string;
  /** The run (GitHub) or the job (GitLab) as a URL. */
  readonly runInvocationURI?: string;
  readonly sourceRepositoryVisibilityAtSigning?: string;
}

export const CI_OIDS: Readonly<Record<keyof CiCertificateFields, string>> = {
  buildSignerURI: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryURI: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerURI: '1.3.6.1.4.1.57264.1.16',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigURI: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationURI: '1.3.6.1.4.1.57264.1.21',
  sourceRepositoryVisibilityAtSigning: '1.3.6.1.4.1.57264.1.22',
};

const UTF8_STRING = 0x0c;
const ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

/** The named fields (of `names`) the bundle's leaf certificate carries; undefined without a certificate. */
export function ciCertificateFields<K extends keyof CiCertificateFields>(bundle: Bundle, names: readonly K[]): Pick<CiCertificateFields, K> | undefined {
  const certificate = leafCertificate(bundle);
  if (!certificate) return undefined;
  const fields: Record<string, string> = {};
  for (const name of names) {
    const value = utf8Extension(certificate, CI_OIDS[name]);
    if (value !== undefined) fields[name] = value;
  }
  return fields as Pick<CiCertificateFields, K>;
}

/** The SAN and issuer a certificate names, verified or not: for saying whom a mismatch was signed by. */
export function certificateNames(bundle: Bundle): { readonly subjectAlternativeName?: string; readonly issuer?: string } {
  const certificate = leafCertificate(bundle);
  const san = certificate?.subjectAltName;
  const issuer = certificate ? utf8Extension(certificate, ISSUER_V2) : undefined;
  return { ...(san ? { subjectAlternativeName: san } : {}), ...(issuer ? { issuer } : {}) };
}

export function leafCertificate(bundle: Bundle): X509Certificate | undefined {
  const content = bundle.verificationMaterial.content;
  const der =
    content.$case === 'certificate' ? content.certificate.rawBytes
    : content.$case === 'x509CertificateChain' ? content.x509CertificateChain.certificates[0]?.rawBytes
    : undefined;
  if (!der) return undefined;
  try {
    return X509Certificate.parse(Buffer.from(der));
  } catch {
    return undefined;
  }
}

// The extension's OCTET STRING wraps a DER UTF8String; @sigstore/core parses it as the one child.
function utf8Extension(certificate: X509Certificate, oid: string): string | undefined {
  const inner = certificate.extension(oid)?.valueObj.subs[0];
  if (!inner?.tag.isUniversal() || inner.tag.number !== UTF8_STRING) return undefined;
  return inner.value.toString('utf8');
}
