// A Cloud Build statement names the service account its build ran as; a keyless signature over it
// is a certificate Fulcio issued to that account (Google's issuer, SAN = the email) and carries no
// build facts. The one fact both hold must agree: otherwise the statement claims a build of an
// account that did not sign it. A key-signed statement rests on the key holder's word.
import { CLOUD_BUILD_BUILD_TYPE } from '../provenance/constants.ts';
import { buildTypeOf } from './github-statement.ts';
import { record, string } from './loose-json.ts';
import { failed, passed, type CheckOutcome, type SignerIdentity } from './result.ts';
import type { StatementCheck } from './statement-checks.ts';
import type { InTotoStatement } from './statement.ts';

/** Fulcio's issuer for Google service accounts. */
export const GOOGLE_ISSUER = 'https://accounts.google.com';

export function isCloudBuildStatement(statement: InTotoStatement): boolean {
  return buildTypeOf(statement) === CLOUD_BUILD_BUILD_TYPE;
}

export function cloudBuildCertificateCheck(signer: SignerIdentity | undefined): StatementCheck {
  return { name: 'certificate', evaluate: (statement) => agreement(statedAccount(statement), signer) };
}

function statedAccount(statement: InTotoStatement): string | undefined {
  const internal = record(record(statement.predicate.buildDefinition).internalParameters);
  return string(record(internal.cloudBuild).serviceAccount);
}

function agreement(account: string | undefined, signer: SignerIdentity | undefined): CheckOutcome {
  if (signer?.kind === 'key') return passed('signed by a key, not by a service account\'s certificate: the build is as the key holder states it');
  if (signer?.kind !== 'certificate') return passed('the signer has no certificate to compare the build with');
  const san = signer.subjectAlternativeName ?? '?';
  if (signer.issuer !== GOOGLE_ISSUER) {
    return failed('CERTIFICATE_MISMATCH', `the statement describes a Cloud Build build, but the certificate (${san}) was issued by ${signer.issuer ?? '?'}, not ${GOOGLE_ISSUER} to a service account`);
  }
  if (account === undefined) return failed('CERTIFICATE_MISMATCH', `internalParameters.cloudBuild.serviceAccount is missing, but the certificate was issued to ${san}`);
  if (account.toLowerCase() !== san.toLowerCase()) {
    return failed('CERTIFICATE_MISMATCH', `internalParameters.cloudBuild.serviceAccount is ${account}, but the certificate was issued to ${san}`);
  }
  return passed(`the build's service account ${account} signed; the certificate names no build, trigger or source: those are the build's own word`);
}
