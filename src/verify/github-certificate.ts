// The GitHub Actions facts Fulcio writes into a keyless certificate (its v2 extensions, each a DER
// UTF8String: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md), read from the
// bundle's leaf certificate into our own type. Only called once the certificate has verified.
import type { Bundle } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** What the certificate says about the workflow run that asked for it. */
export interface GithubCertificateFields {
  /** `https://github.com/` + job_workflow_ref: the workflow that signed (the reusable workflow, when one). */
  readonly buildSignerURI?: string;
  readonly buildSignerDigest?: string;
  readonly runnerEnvironment?: string;
  /** `https://github.com/<owner>/<repo>`: the repository the run belongs to. */
  readonly sourceRepositoryURI?: string;
  /** The commit the run checked out. */
  readonly sourceRepositoryDigest?: string;
  readonly sourceRepositoryRef?: string;
  /** GitHub's numeric ids of the repository and its owner: they survive renames, names do not. */
  readonly sourceRepositoryIdentifier?: string;
  readonly sourceRepositoryOwnerIdentifier?: string;
  /** `https://github.com/` + workflow_ref: the top-level workflow of the run. */
  readonly buildConfigURI?: string;
  readonly buildConfigDigest?: string;
  /** The event that started the run (push, workflow_dispatch, …). */
  readonly buildTrigger?: string;
  /** `https://github.com/<owner>/<repo>/actions/runs/<id>/attempts/<n>`. */
  readonly runInvocationURI?: string;
}

const OIDS: Readonly<Record<keyof GithubCertificateFields, string>> = {
  buildSignerURI: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryURI: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigURI: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationURI: '1.3.6.1.4.1.57264.1.21',
};

const UTF8_STRING = 0x0c;

/**
 * The GitHub fields of the bundle's signing certificate (possibly none: the certificate check
 * then says which are missing); undefined when its issuer is not GitHub's (other CI providers
 * put their own facts under the same OIDs).
 */
export function githubCertificateFields(bundle: Bundle, issuer: string | undefined): GithubCertificateFields | undefined {
  if (!isGithubIssuer(issuer)) return undefined;
  const certificate = leafCertificate(bundle);
  if (!certificate) return undefined;
  const fields: Record<string, string> = {};
  for (const [name, oid] of Object.entries(OIDS)) {
    const value = utf8Extension(certificate, oid);
    if (value !== undefined) fields[name] = value;
  }
  return fields;
}

// GitHub Enterprise Cloud tenants with a custom issuer get https://token.actions.githubusercontent.com/<enterprise>.
function isGithubIssuer(issuer: string | undefined): boolean {
  return issuer === GITHUB_ACTIONS_ISSUER || (issuer?.startsWith(`${GITHUB_ACTIONS_ISSUER}/`) ?? false);
}

function leafCertificate(bundle: Bundle): X509Certificate | undefined {
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
